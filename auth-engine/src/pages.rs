//! The built-in HTML pages: sign-in, sign-out, verify-request and error, as
//! plain server-rendered HTML with a little CSS.

use crate::config::Provider;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,sans-serif;background:#f4f5f7;color:#1f2328;margin:0}\
main{max-width:22rem;margin:8vh auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}\
h1{font-size:1.25rem;margin:0 0 1.25rem}form{margin:0 0 1rem}label{display:block;font-size:.85rem;margin-bottom:.35rem}\
input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #c9ccd1;border-radius:6px;margin-bottom:.6rem}\
button,.button{display:block;width:100%;box-sizing:border-box;padding:.65rem;border:0;border-radius:6px;background:#1f2328;color:#fff;font-size:.95rem;cursor:pointer;text-align:center;text-decoration:none}\
.error{background:#fdecea;color:#8a1c13;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem;font-size:.9rem}\
hr{border:0;border-top:1px solid #e4e6ea;margin:1.25rem 0}p{line-height:1.45}";

/// A whole page around `body`.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// The message the sign-in page shows for `?error=CODE` (Auth.js's texts).
pub fn signin_error_message(code: &str) -> &'static str {
    match code {
        "OAuthAccountNotLinked" => {
            "To confirm your identity, sign in with the same account you used originally."
        }
        "EmailSignin" | "EmailSignInError" => "The e-mail could not be sent.",
        "CredentialsSignin" => "Sign in failed. Check the details you provided are correct.",
        "SessionRequired" => "Please sign in to access this page.",
        "MissingCSRF" => "The form expired. Please try again.",
        _ => "Unable to sign in.",
    }
}

/// The sign-in page: one form per provider, each posting the CSRF token and
/// the callback URL.
pub fn signin(
    providers: &[Provider],
    action_base: &str,
    csrf_token: &str,
    callback_url: &str,
    error: Option<&str>,
) -> String {
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(code) = error {
        body.push_str(&format!(
            "<div class=\"error\" role=\"alert\" data-error=\"{}\">{}</div>",
            escape(code),
            escape(signin_error_message(code))
        ));
    }
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrfToken\" value=\"{}\">\
<input type=\"hidden\" name=\"callbackUrl\" value=\"{}\">",
        escape(csrf_token),
        escape(callback_url)
    );
    let mut first = true;
    for provider in providers {
        if !first {
            body.push_str("<hr>");
        }
        first = false;
        let action = format!("{action_base}/signin/{}", provider.id());
        match provider {
            Provider::Email(_) => body.push_str(&format!(
                "<form method=\"post\" action=\"{}\">{hidden}\
<label for=\"input-email-for-{id}\">Email</label>\
<input id=\"input-email-for-{id}\" type=\"email\" name=\"email\" placeholder=\"email@example.com\" required>\
<button type=\"submit\">Sign in with {name}</button></form>",
                escape(&action),
                id = escape(provider.id()),
                name = escape(provider.name()),
            )),
            Provider::OAuth(_) => body.push_str(&format!(
                "<form method=\"post\" action=\"{}\">{hidden}\
<button type=\"submit\" id=\"signin-{}\">Sign in with {}</button></form>",
                escape(&action),
                escape(provider.id()),
                escape(provider.name()),
            )),
        }
    }
    layout("Sign In", &body)
}

/// The sign-out confirmation page.
pub fn signout(action_base: &str, csrf_token: &str) -> String {
    layout(
        "Sign Out",
        &format!(
            "<h1>Sign out</h1><p>Are you sure you want to sign out?</p>\
<form method=\"post\" action=\"{}/signout\">\
<input type=\"hidden\" name=\"csrfToken\" value=\"{}\">\
<button type=\"submit\" id=\"submitButton\">Sign out</button></form>",
            escape(action_base),
            escape(csrf_token)
        ),
    )
}

/// The "check your email" page.
pub fn verify_request(origin: &str) -> String {
    layout(
        "Verify Request",
        &format!(
            "<h1>Check your email</h1><p>A sign in link has been sent to your email address.</p>\
<p><a class=\"button\" href=\"{}\">Back to the site</a></p>",
            escape(origin)
        ),
    )
}

/// The error page for `code`, with Auth.js's status codes: 500 for
/// `Configuration`, 403 for `AccessDenied` and `Verification`, else 200.
pub fn error(code: Option<&str>, signin_url: &str) -> (u16, String) {
    let (status, heading, message, link) = match code.unwrap_or("default") {
        "Configuration" => (
            500,
            "Server error",
            "There is a problem with the server configuration. Check the server logs for more information.",
            false,
        ),
        "AccessDenied" => (
            403,
            "Access Denied",
            "You do not have permission to sign in.",
            true,
        ),
        "Verification" => (
            403,
            "Unable to sign in",
            "The sign in link is no longer valid. It may have been used already or it may have expired.",
            true,
        ),
        _ => (200, "Error", "An error occurred.", true),
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"message\">{}</p>",
        escape(heading),
        escape(message)
    );
    if link {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">Sign in</a></p>",
            escape(signin_url)
        ));
    }
    (status, layout("Error", &body))
}
