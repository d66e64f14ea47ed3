//! The demo's own pages: home, account (linked accounts and active
//! sessions), and the dev-only outbox. Every state-changing POST is checked
//! against the engine's CSRF cookie (`authjs.csrf-token`, double submit).

use auth_axum::engine::{RequireSession, Session};
use auth_engine::Strategy;
use auth_engine::auth_core::{Account, Session as DbSession, User};
use auth_engine::auth_jwt::cookies::parse_cookie_header;
use auth_engine::auth_jwt::csrf::verify_csrf_submission;
use auth_engine::pages::escape;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::AppState;
use crate::mock_oauth::{PROVIDER_ID, PROVIDER_NAME};

const STYLE: &str = "body{font-family:system-ui,-apple-system,sans-serif;background:#f4f5f7;color:#1f2328;margin:0}\
header{background:#1f2328;color:#fff;padding:.7rem 1.5rem;display:flex;gap:1.2rem;align-items:center}\
header a{color:#fff;text-decoration:none;font-size:.95rem}header .brand{font-weight:600;margin-right:auto}\
main{max-width:40rem;margin:2.5rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}\
h1{font-size:1.35rem;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.6rem 0 .6rem}p{line-height:1.5}\
table{width:100%;border-collapse:collapse;font-size:.92rem}td,th{text-align:left;padding:.5rem .4rem;border-bottom:1px solid #e4e6ea;vertical-align:middle}\
form{display:inline;margin:0}button,.button{display:inline-block;padding:.45rem .8rem;border:0;border-radius:6px;background:#1f2328;color:#fff;font-size:.9rem;cursor:pointer;text-decoration:none}\
button.danger{background:#b42318}button.secondary,.button.secondary{background:#fff;color:#1f2328;border:1px solid #c9ccd1}\
button:disabled{opacity:.45;cursor:not-allowed}.muted{color:#656d76;font-size:.88rem}\
.notice{background:#e7f5ec;color:#1a5e32;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}\
.error{background:#fdecea;color:#8a1c13;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}\
.dev{background:#fff4d6;color:#7a5300;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}\
.tag{display:inline-block;background:#eef1f4;border-radius:4px;padding:.05rem .4rem;font-size:.78rem;margin-left:.3rem}\
.actions{display:flex;gap:.6rem;flex-wrap:wrap;margin-top:1rem}code{background:#eef1f4;padding:.05rem .3rem;border-radius:4px;word-break:break-all}";

/// A whole page: the navigation bar and `body`.
fn page(title: &str, signed_in: bool, body: &str) -> String {
    let nav = if signed_in {
        "<a href=\"/account\" id=\"nav-account\">Account</a><a href=\"/api/auth/signout\" id=\"nav-signout\">Sign out</a>"
    } else {
        "<a href=\"/api/auth/signin?callbackUrl=%2F\" id=\"nav-signin\">Sign in</a>"
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · Auth.js for Rust demo</title><style>{STYLE}</style></head><body>\
<header><a class=\"brand\" href=\"/\">Auth.js for Rust · demo</a><a href=\"/dev/outbox\">Outbox</a>{nav}</header>\
<main>{body}</main></body></html>",
        escape(title)
    )
}

fn html(status: StatusCode, body: String, cookies: Vec<HeaderValue>) -> Response {
    let mut response = (status, [(CACHE_CONTROL, "no-store")], Html(body)).into_response();
    for c in cookies {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc2822).unwrap_or_else(|_| t.to_string())
}

/// The engine's CSRF token for this browser (`GET /api/auth/csrf`), and the
/// cookie to set when the browser had none.
async fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Vec<HeaderValue>) {
    let mut builder = Request::get(format!("{}/csrf", state.auth.base_path()));
    for value in headers.get_all(COOKIE) {
        builder = builder.header(COOKIE, value);
    }
    let Ok(request) = builder.body(Bytes::new()) else {
        return (String::new(), Vec::new());
    };
    let response = state.auth.handle(request).await;
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    let token = serde_json::from_slice::<serde_json::Value>(response.body())
        .ok()
        .and_then(|v| v["csrfToken"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (token, cookies)
}

/// A cookie of the request, decoded.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_cookie_header)
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Whether the form's `csrfToken` matches the engine's CSRF cookie.
fn csrf_ok(state: &AppState, headers: &HeaderMap, form: &CsrfForm) -> bool {
    let Some(submitted) = form.csrf_token.as_deref().filter(|t| !t.is_empty()) else {
        return false;
    };
    cookie(headers, &state.auth.cookie_names().csrf_token)
        .is_some_and(|value| verify_csrf_submission(&value, submitted, &state.secrets))
}

fn csrf_rejected(signed_in: bool) -> Response {
    html(
        StatusCode::FORBIDDEN,
        page(
            "Forbidden",
            signed_in,
            "<h1>Request refused</h1><div class=\"error\" role=\"alert\" id=\"csrf-error\">\
The form's CSRF token is missing or does not match this browser's. Nothing was changed.</div>\
<p><a class=\"button\" href=\"/account\">Back to your account</a></p>",
        ),
        Vec::new(),
    )
}

fn server_error(signed_in: bool) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page(
            "Error",
            signed_in,
            "<h1>Something went wrong</h1><div class=\"error\" role=\"alert\">The database could not be reached. \
Check the server's output and try again.</div>",
        ),
        Vec::new(),
    )
}

/// A short, non-secret handle for a session: the first 16 hex digits of
/// `sha256(token)`. Pages never show session tokens.
fn session_handle(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn provider_name(id: &str) -> &str {
    if id == PROVIDER_ID { PROVIDER_NAME } else { id }
}

/// `GET /`: who is signed in, until when.
pub(crate) async fn home(State(state): State<AppState>, session: Option<Session>) -> Response {
    let body = match &session {
        Some(Session(s)) => {
            let who = s
                .user
                .name
                .as_deref()
                .or(s.user.email.as_deref())
                .unwrap_or("someone");
            format!(
                "<h1>Hello, <span id=\"user-name\">{}</span></h1>\
<p id=\"signed-in\">You are signed in as <strong id=\"user-email\">{}</strong>.</p>\
<table><tr><th>User id</th><td><code>{}</code></td></tr>\
<tr><th>Session expires</th><td id=\"session-expires\">{}</td></tr>\
<tr><th>Session strategy</th><td>{}</td></tr><tr><th>Database</th><td><code>{}</code></td></tr></table>\
<p class=\"muted\">The expiry slides forward as you use the site (Auth.js's <code>updateAge</code>).</p>\
<div class=\"actions\"><a class=\"button\" href=\"/account\" id=\"account-link\">Your account</a>\
<a class=\"button secondary\" href=\"/api/auth/signout\" id=\"signout-link\">Sign out</a></div>",
                escape(who),
                escape(s.user.email.as_deref().unwrap_or("(no email)")),
                escape(s.user.id.as_deref().unwrap_or("?")),
                escape(&when(s.expires)),
                strategy_name(state.auth.strategy()),
                escape(&state.database),
            )
        }
        None => format!(
            "<h1>Welcome</h1><p id=\"signed-out\">You are not signed in.</p>\
<p>Sign in with a magic link (printed on the server's stdout and listed on the \
<a href=\"/dev/outbox\">outbox</a>) or with <strong>{PROVIDER_NAME}</strong>, a mock OAuth provider \
built into this app: everything runs on this machine.</p>\
<div class=\"actions\"><a class=\"button\" href=\"/api/auth/signin?callbackUrl=%2F\" id=\"signin-link\">Sign in</a></div>\
<p class=\"muted\">Database: <code>{}</code> · sessions: {}</p>",
            escape(&state.database),
            strategy_name(state.auth.strategy()),
        ),
    };
    html(
        StatusCode::OK,
        page("Home", session.is_some(), &body),
        Vec::new(),
    )
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Database => "database",
        Strategy::Jwt => "JWT",
    }
}

/// `?notice=` on the account page: fixed messages, never reflected text.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Notice {
    notice: Option<String>,
}

fn notice_text(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "unlinked" => ("notice", "The account was unlinked."),
        "revoked" => ("notice", "That session was signed out."),
        "not-found" => ("error", "That account or session no longer exists."),
        "last-method" => (
            "error",
            "This is your only way to sign in (you have no email address): link another account first.",
        ),
        _ => return None,
    })
}

/// `GET /account`: profile, linked accounts, active sessions.
pub(crate) async fn account(
    State(state): State<AppState>,
    RequireSession(s): RequireSession,
    Query(notice): Query<Notice>,
    headers: HeaderMap,
) -> Response {
    let Some(user_id) = s.user.id.clone() else {
        return server_error(true);
    };
    let (user, accounts) = match (
        state.adapter.get_user(&user_id).await,
        state.adapter.list_accounts_by_user_id(&user_id).await,
    ) {
        (Ok(Some(user)), Ok(accounts)) => (user, accounts),
        (Ok(None), _) => return redirect("/"),
        _ => return server_error(true),
    };
    let sessions = match state.auth.strategy() {
        Strategy::Database => match state.adapter.list_sessions_by_user_id(&user_id).await {
            Ok(mut sessions) => {
                sessions.sort_by_key(|s| std::cmp::Reverse(s.expires));
                Some(sessions)
            }
            Err(_) => return server_error(true),
        },
        Strategy::Jwt => None,
    };
    let current = cookie(&headers, &state.auth.cookie_names().session_token);
    let (csrf, cookies) = csrf_token(&state, &headers).await;
    let body = account_body(
        &user,
        &accounts,
        sessions.as_deref(),
        current.as_deref(),
        &csrf,
        notice.notice.as_deref(),
    );
    html(StatusCode::OK, page("Account", true, &body), cookies)
}

fn account_body(
    user: &User,
    accounts: &[Account],
    sessions: Option<&[DbSession]>,
    current: Option<&str>,
    csrf: &str,
    notice: Option<&str>,
) -> String {
    let csrf_field = format!(
        "<input type=\"hidden\" name=\"csrfToken\" value=\"{}\">",
        escape(csrf)
    );
    let mut body = String::from("<h1>Your account</h1>");
    if let Some((class, text)) = notice.and_then(notice_text) {
        body.push_str(&format!(
            "<div class=\"{class}\" role=\"status\" id=\"notice\">{text}</div>"
        ));
    }
    body.push_str(&format!(
        "<table><tr><th>Name</th><td>{}</td></tr><tr><th>Email</th><td>{}</td></tr>\
<tr><th>User id</th><td><code>{}</code></td></tr></table>",
        escape(user.name.as_deref().unwrap_or("—")),
        escape(
            user.email
                .as_deref()
                .unwrap_or("— (no email: sign in only through a linked account)")
        ),
        escape(&user.id),
    ));

    body.push_str("<h2>Linked accounts</h2>");
    if user.email.is_some() {
        body.push_str("<p class=\"muted\">You can always sign in with a magic link sent to your email address.</p>");
    }
    let last_method = user.email.is_none() && accounts.len() <= 1;
    if accounts.is_empty() {
        body.push_str("<p id=\"no-accounts\">No linked accounts yet.</p>");
    } else {
        body.push_str(
            "<table id=\"accounts\"><tr><th>Provider</th><th>Account id</th><th></th></tr>",
        );
        for a in accounts {
            let button = if last_method {
                "<button type=\"submit\" class=\"secondary\" disabled title=\"Your only way to sign in\">Unlink</button>"
            } else {
                "<button type=\"submit\" class=\"secondary\">Unlink</button>"
            };
            body.push_str(&format!(
                "<tr class=\"account\" data-provider=\"{p}\" data-account=\"{id}\"><td>{name}</td><td><code>{id}</code></td>\
<td><form method=\"post\" action=\"/account/unlink\">{csrf_field}\
<input type=\"hidden\" name=\"provider\" value=\"{p}\"><input type=\"hidden\" name=\"providerAccountId\" value=\"{id}\">\
{button}</form></td></tr>",
                p = escape(&a.provider),
                id = escape(&a.provider_account_id),
                name = escape(provider_name(&a.provider)),
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!(
        "<div class=\"actions\"><form method=\"post\" action=\"/api/auth/signin/{PROVIDER_ID}\">{csrf_field}\
<input type=\"hidden\" name=\"callbackUrl\" value=\"/account\">\
<button type=\"submit\" id=\"link-mock\">Link a {PROVIDER_NAME} account</button></form></div>"
    ));

    body.push_str("<h2>Active sessions</h2>");
    match sessions {
        None => body.push_str(
            "<p class=\"muted\">This app runs with JWT sessions: they live in each browser's cookie and are not \
stored, so they cannot be listed or ended from here. Sign out in each browser, or rotate <code>AUTH_SECRET</code>.</p>",
        ),
        Some(sessions) => {
            body.push_str("<table id=\"sessions\"><tr><th>Session</th><th>Expires</th><th></th></tr>");
            for s in sessions {
                let handle = session_handle(&s.session_token);
                let this = current.is_some_and(|c| c == s.session_token);
                body.push_str(&format!(
                    "<tr class=\"session{}\" data-session=\"{handle}\"><td><code>{handle}</code>{}</td><td>{}</td>\
<td><form method=\"post\" action=\"/account/sessions/revoke\">{csrf_field}\
<input type=\"hidden\" name=\"session\" value=\"{handle}\">\
<button type=\"submit\" class=\"secondary\">Sign out this one</button></form></td></tr>",
                    if this { " current" } else { "" },
                    if this { "<span class=\"tag\">this browser</span>" } else { "" },
                    escape(&when(s.expires)),
                ));
            }
            body.push_str(&format!(
                "</table><div class=\"actions\"><form method=\"post\" action=\"/account/sessions/revoke-all\">{csrf_field}\
<button type=\"submit\" class=\"danger\" id=\"signout-everywhere\">Sign out everywhere</button></form></div>"
            ));
        }
    }
    body
}

/// A form carrying the CSRF token.
#[derive(serde::Deserialize, Default)]
pub(crate) struct CsrfForm {
    #[serde(rename = "csrfToken")]
    csrf_token: Option<String>,
    provider: Option<String>,
    #[serde(rename = "providerAccountId")]
    provider_account_id: Option<String>,
    session: Option<String>,
}

/// `POST /account/unlink`: removes one of the user's linked accounts (never
/// the last way to sign in of a user without email).
pub(crate) async fn unlink(
    State(state): State<AppState>,
    session: Option<Session>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state, &headers, &form) {
        return csrf_rejected(session.is_some());
    }
    let Some(Session(s)) = session else {
        return redirect("/api/auth/signin?callbackUrl=%2Faccount");
    };
    let Some(user_id) = s.user.id else {
        return server_error(true);
    };
    let (Some(provider), Some(account_id)) = (form.provider, form.provider_account_id) else {
        return redirect("/account?notice=not-found");
    };
    let (user, accounts) = match (
        state.adapter.get_user(&user_id).await,
        state.adapter.list_accounts_by_user_id(&user_id).await,
    ) {
        (Ok(Some(user)), Ok(accounts)) => (user, accounts),
        (Ok(None), _) => return redirect("/"),
        _ => return server_error(true),
    };
    if !accounts
        .iter()
        .any(|a| a.provider == provider && a.provider_account_id == account_id)
    {
        return redirect("/account?notice=not-found");
    }
    if user.email.is_none() && accounts.len() <= 1 {
        return redirect("/account?notice=last-method");
    }
    match state.adapter.unlink_account(&provider, &account_id).await {
        Ok(_) => redirect("/account?notice=unlinked"),
        Err(_) => server_error(true),
    }
}

/// `POST /account/sessions/revoke`: ends one of the user's sessions.
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    session: Option<Session>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state, &headers, &form) {
        return csrf_rejected(session.is_some());
    }
    let Some(user_id) = session.and_then(|Session(s)| s.user.id) else {
        return redirect("/");
    };
    let Some(handle) = form.session else {
        return redirect("/account?notice=not-found");
    };
    let sessions = match state.adapter.list_sessions_by_user_id(&user_id).await {
        Ok(s) => s,
        Err(_) => return server_error(true),
    };
    let Some(target) = sessions
        .iter()
        .find(|s| session_handle(&s.session_token) == handle)
    else {
        return redirect("/account?notice=not-found");
    };
    if state
        .adapter
        .delete_session(&target.session_token)
        .await
        .is_err()
    {
        return server_error(true);
    }
    let current = cookie(&headers, &state.auth.cookie_names().session_token);
    if current.as_deref() == Some(target.session_token.as_str()) {
        redirect("/")
    } else {
        redirect("/account?notice=revoked")
    }
}

/// `POST /account/sessions/revoke-all`: ends every session of the user,
/// this browser's included.
pub(crate) async fn revoke_all(
    State(state): State<AppState>,
    session: Option<Session>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&state, &headers, &form) {
        return csrf_rejected(session.is_some());
    }
    let Some(user_id) = session.and_then(|Session(s)| s.user.id) else {
        return redirect("/");
    };
    let sessions = match state.adapter.list_sessions_by_user_id(&user_id).await {
        Ok(s) => s,
        Err(_) => return server_error(true),
    };
    for s in sessions {
        if state
            .adapter
            .delete_session(&s.session_token)
            .await
            .is_err()
        {
            return server_error(true);
        }
    }
    redirect("/")
}

/// `GET /dev/outbox`: the magic links sent so far (development only).
pub(crate) async fn outbox(State(state): State<AppState>, session: Option<Session>) -> Response {
    let mut body = String::from(
        "<h1>Outbox</h1><div class=\"dev\" role=\"note\"><strong>Development only.</strong> \
This page lists every sign-in link the demo \"sent\" (they are also printed on the server's stdout). \
A real app sends them by email and never shows them.</div>",
    );
    let mut links = state.outbox.all();
    links.reverse();
    if links.is_empty() {
        body.push_str(
            "<p id=\"outbox-empty\">No sign-in links yet: sign in with your email first.</p>",
        );
    } else {
        body.push_str("<table id=\"outbox\"><tr><th>To</th><th>Expires</th><th></th></tr>");
        for r in links {
            let fresh = r.expires > OffsetDateTime::now_utc();
            body.push_str(&format!(
                "<tr class=\"link\" data-email=\"{email}\"><td>{email}</td><td>{}</td><td>{}</td></tr>",
                escape(&when(r.expires)),
                if fresh {
                    format!("<a class=\"button\" href=\"{}\">Open sign-in link</a>", escape(&r.url))
                } else {
                    "<span class=\"muted\">expired</span>".to_owned()
                },
                email = escape(&r.identifier),
            ));
        }
        body.push_str("</table><p class=\"muted\">Each link works once.</p>");
    }
    html(
        StatusCode::OK,
        page("Outbox", session.is_some(), &body),
        Vec::new(),
    )
}

/// Anything else: 404.
pub(crate) async fn not_found(session: Option<Session>) -> Response {
    html(
        StatusCode::NOT_FOUND,
        page(
            "Not found",
            session.is_some(),
            "<h1>Not found</h1><p>There is no such page.</p><p><a class=\"button\" href=\"/\">Home</a></p>",
        ),
        Vec::new(),
    )
}
