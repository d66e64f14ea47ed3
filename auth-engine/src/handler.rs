//! The REST API: one function per Auth.js action.

use auth_core::{
    Account, AccountType, NewUser, Session, SessionUpdate, User, UserUpdate, VerificationToken,
};
use auth_jwt::cookies::{V5_CHUNK_SIZE, chunk_cookie, join_chunks};
use auth_jwt::csrf::{create_csrf_token, email_token_hash, random_token, verify_csrf_cookie};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::callbacks::{JwtTrigger, SignInAttempt, SignInDecision};
use crate::config::{Auth, Provider, Strategy};
use crate::email::{EmailProvider, VerificationRequest};
use crate::error::{AuthError, ErrorCode};
use crate::http_util::{
    Life, Outcome, Parsed, Reply, SetCookie, action_of, parse_body, plain, request_cookies,
};
use crate::oauth::{CallbackParams, Checks, OAuthProvider};
use crate::pages;

/// How long the OAuth check cookies (state, PKCE verifier, nonce) live.
const CHECK_MAX_AGE: i64 = 15 * 60;

/// What a check cookie's JWE carries: the value and the provider it is for.
#[derive(Serialize, Deserialize)]
struct CheckClaims {
    value: String,
    provider: String,
}

/// The per-request state every action shares: Auth.js's `init()`.
struct Ctx {
    req: Parsed,
    csrf_token: String,
    csrf_verified: bool,
    callback_url: String,
    cookies: Vec<SetCookie>,
}

impl Auth {
    /// Answers one request under the base path: every route of Auth.js's
    /// REST API (`/providers`, `/csrf`, `/session`, `/signin[/ID]`,
    /// `/callback/ID`, `/signout`, `/verify-request`, `/error`), with
    /// Auth.js's status codes, redirects, JSON and cookies. The body must
    /// be the whole request body (form or JSON).
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let (parts, body) = request.into_parts();
        let Some((action, provider_id)) = action_of(parts.uri.path(), &self.inner.base_path) else {
            return plain(StatusCode::BAD_REQUEST, "Bad request.");
        };
        let query = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let (fields, data) = if parts.method == Method::POST {
            parse_body(&parts.headers, &body)
        } else {
            Default::default()
        };
        let req = Parsed {
            method: parts.method.clone(),
            action,
            provider_id,
            query,
            body: fields,
            data,
            cookies: request_cookies(&parts.headers),
            return_redirect: parts.headers.contains_key("x-auth-return-redirect"),
        };
        let return_redirect = req.return_redirect;
        let is_session_post = req.method == Method::POST && req.action == "session";
        let mut ctx = match self.init(req) {
            Ok(ctx) => ctx,
            Err(e) => return self.error_response(e, return_redirect, Vec::new()),
        };
        match self.route(&mut ctx).await {
            Ok(mut reply) => {
                let mut cookies = std::mem::take(&mut ctx.cookies);
                cookies.append(&mut reply.cookies);
                reply.cookies = cookies;
                reply.into_response(self.inner.secure, return_redirect)
            }
            Err(e) if is_session_post => {
                tracing_log(&e);
                let mut reply = Reply::json(Value::Null);
                reply.outcome = Outcome::Json(StatusCode::BAD_REQUEST, Value::Null);
                reply.into_response(self.inner.secure, false)
            }
            Err(e) => self.error_response(e, return_redirect, std::mem::take(&mut ctx.cookies)),
        }
    }

    /// The redirect (or `{url}`) to the page for `error`: the sign-in page
    /// for sign-in errors, the error page otherwise; codes that are not
    /// client-safe become `Configuration`.
    fn error_response(
        &self,
        error: AuthError,
        return_redirect: bool,
        cookies: Vec<SetCookie>,
    ) -> Response<Bytes> {
        tracing_log(&error);
        let code = if error.code.is_client_safe() {
            error.code
        } else {
            ErrorCode::Configuration
        };
        let page = error.code.page();
        let url = format!(
            "{}{}/{page}?{}",
            self.inner.origin,
            self.inner.base_path,
            form_urlencoded::Serializer::new(String::new())
                .append_pair("error", code.as_str())
                .finish()
        );
        let mut reply = Reply::redirect(url);
        reply.cookies = cookies;
        reply.into_response(self.inner.secure, return_redirect)
    }

    /// CSRF and callback URL, for every request (Auth.js's `init`).
    fn init(&self, req: Parsed) -> Result<Ctx, AuthError> {
        let i = &self.inner;
        let mut cookies = Vec::new();
        let trusted = req
            .cookie(&i.cookies.csrf_token)
            .and_then(|v| verify_csrf_cookie(v, &i.secrets));
        let (csrf_token, csrf_verified) = match trusted {
            Some(token) => {
                let verified = req.method == Method::POST
                    && req
                        .body
                        .get("csrfToken")
                        .is_some_and(|b| bool::from(b.as_bytes().ct_eq(token.as_bytes())));
                (token, verified)
            }
            None => {
                let fresh = create_csrf_token(&i.secrets)
                    .map_err(|e| AuthError::new(ErrorCode::Configuration, format!("csrf: {e}")))?;
                cookies.push(SetCookie {
                    name: i.cookies.csrf_token.clone(),
                    value: fresh.cookie_value.clone(),
                    life: Life::Session,
                });
                (fresh.token.clone(), false)
            }
        };
        let param = req
            .body
            .get("callbackUrl")
            .or_else(|| req.query.get("callbackUrl"))
            .cloned();
        let cookie_value = req.cookie(&i.cookies.callback_url).map(str::to_owned);
        let callback_url = match (&param, &cookie_value) {
            (Some(p), _) => i.callbacks.redirect(p, &i.origin),
            (None, Some(c)) => i.callbacks.redirect(c, &i.origin),
            (None, None) => i.origin.clone(),
        };
        if cookie_value.as_deref() != Some(callback_url.as_str()) {
            cookies.push(SetCookie {
                name: i.cookies.callback_url.clone(),
                value: callback_url.clone(),
                life: Life::Session,
            });
        }
        Ok(Ctx {
            req,
            csrf_token,
            csrf_verified,
            callback_url,
            cookies,
        })
    }

    async fn route(&self, ctx: &mut Ctx) -> Result<Reply, AuthError> {
        let provider = ctx.req.provider_id.clone();
        let get = ctx.req.method == Method::GET;
        let post = ctx.req.method == Method::POST;
        match (ctx.req.action.as_str(), provider.as_deref()) {
            ("providers", None) if get => Ok(self.providers_json()),
            ("csrf", None) if get => {
                let mut reply = Reply::json(json!({ "csrfToken": ctx.csrf_token }));
                reply.no_store = true;
                Ok(reply)
            }
            ("session", None) if get => self.session_action(ctx, false).await,
            ("session", None) if post => {
                require_csrf(ctx, "session")?;
                self.session_action(ctx, true).await
            }
            ("signin", None) if get => Ok(self.signin_page(ctx)),
            ("signin", Some(id)) if post => {
                require_csrf(ctx, "signin")?;
                self.signin(ctx, id).await
            }
            ("callback", Some(id)) if get || post => self.callback(ctx, id).await,
            ("signout", None) if get => Ok(Reply::html(
                StatusCode::OK,
                pages::signout(&self.api_url(), &ctx.csrf_token),
            )),
            ("signout", None) if post => {
                require_csrf(ctx, "signout")?;
                self.signout(ctx).await
            }
            ("verify-request", None) if get => Ok(Reply::html(
                StatusCode::OK,
                pages::verify_request(&self.inner.origin),
            )),
            ("error", None) if get => {
                let (status, html) = pages::error(
                    ctx.req.query.get("error").map(String::as_str),
                    &format!("{}/signin", self.api_url()),
                );
                Ok(Reply::html(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    html,
                ))
            }
            (action, _) => Err(AuthError::new(
                ErrorCode::UnknownAction,
                format!("cannot handle {} {action}", ctx.req.method),
            )),
        }
    }

    /// `ORIGIN/BASE`, e.g. `http://127.0.0.1:3000/api/auth`.
    pub(crate) fn api_url(&self) -> String {
        format!("{}{}", self.inner.origin, self.inner.base_path)
    }

    fn providers_json(&self) -> Reply {
        let base = self.api_url();
        let map: Map<String, Value> = self
            .inner
            .providers
            .iter()
            .map(|p| {
                (
                    p.id().to_owned(),
                    json!({
                        "id": p.id(),
                        "name": p.name(),
                        "type": p.kind(),
                        "signinUrl": format!("{base}/signin/{}", p.id()),
                        "callbackUrl": format!("{base}/callback/{}", p.id()),
                    }),
                )
            })
            .collect();
        Reply::json(Value::Object(map))
    }

    fn signin_page(&self, ctx: &Ctx) -> Reply {
        let html = pages::signin(
            &self.inner.providers,
            &self.api_url(),
            &ctx.csrf_token,
            &ctx.callback_url,
            ctx.req.query.get("error").map(String::as_str),
        );
        Reply::html(StatusCode::OK, html)
    }

    fn provider(&self, id: &str) -> Option<&Provider> {
        self.inner.providers.iter().find(|p| p.id() == id)
    }

    // ---------------------------------------------------------------- session

    /// The session token the request carries (chunks joined).
    fn session_token(&self, req: &Parsed) -> Option<String> {
        join_chunks(
            &self.inner.cookies.session_token,
            req.cookies.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        )
    }

    /// Expires every session cookie (and chunk) the request carried.
    fn clean_session(&self, req: &Parsed) -> Vec<SetCookie> {
        let name = &self.inner.cookies.session_token;
        let mut out: Vec<SetCookie> = req
            .cookies
            .iter()
            .filter(|(n, _)| n.starts_with(name.as_str()))
            .map(|(n, _)| SetCookie {
                name: n.clone(),
                value: String::new(),
                life: Life::Seconds(0),
            })
            .collect();
        if out.is_empty() {
            out.push(SetCookie {
                name: name.clone(),
                value: String::new(),
                life: Life::Seconds(0),
            });
        }
        out
    }

    /// The session cookies for a JWT (chunked, stale chunks expired).
    fn jwt_cookies(&self, req: &Parsed, token: &str, expires: OffsetDateTime) -> Vec<SetCookie> {
        chunk_cookie(
            &self.inner.cookies.session_token,
            token,
            V5_CHUNK_SIZE,
            req.cookies.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .into_iter()
        .map(|c| SetCookie {
            name: c.name,
            value: c.value,
            life: if c.expire {
                Life::Seconds(0)
            } else {
                Life::Until(expires)
            },
        })
        .collect()
    }

    /// `GET /session` (and `POST` to update): Auth.js's `session` action.
    async fn session_action(&self, ctx: &mut Ctx, update: bool) -> Result<Reply, AuthError> {
        let resolved = self
            .resolve_parsed(&ctx.req, update, ctx.req.data.clone())
            .await;
        let mut reply = Reply::json(resolved.json.unwrap_or(Value::Null));
        reply.no_store = !update;
        reply.cookies = resolved.cookies;
        Ok(reply)
    }

    /// Resolves the session of a request the way `GET /session` does,
    /// returning the session JSON and the cookies to set.
    pub(crate) async fn resolve_parsed(
        &self,
        req: &Parsed,
        update: bool,
        data: Option<Value>,
    ) -> Resolution {
        let i = &self.inner;
        let Some(token) = self.session_token(req) else {
            return Resolution::default();
        };
        let now = self.now();
        let new_expires = now + i.max_age;
        match i.strategy {
            Strategy::Jwt => {
                let salt = &i.cookies.session_token;
                let claims: Map<String, Value> = match i.jwt.decode(salt, &token) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing_log(&AuthError::new(
                            ErrorCode::Configuration,
                            format!("JWTSessionError: {e}"),
                        ));
                        return Resolution {
                            cookies: self.clean_session(req),
                            ..Resolution::default()
                        };
                    }
                };
                let trigger = if update {
                    JwtTrigger::Update
                } else {
                    JwtTrigger::Read
                };
                let Some(claims) = i.callbacks.jwt(claims, None, trigger, data.as_ref()).await
                else {
                    return Resolution {
                        cookies: self.clean_session(req),
                        ..Resolution::default()
                    };
                };
                let session = json!({
                    "user": {
                        "name": claims.get("name").cloned().unwrap_or(Value::Null),
                        "email": claims.get("email").cloned().unwrap_or(Value::Null),
                        "image": claims.get("picture").cloned().unwrap_or(Value::Null),
                    },
                    "expires": iso(new_expires),
                });
                let session = i.callbacks.session(session, None, Some(&claims)).await;
                let cookies = match i.jwt.encode(salt, &claims) {
                    Ok(new_token) => self.jwt_cookies(req, &new_token, new_expires),
                    Err(e) => {
                        tracing_log(&AuthError::new(
                            ErrorCode::Configuration,
                            format!("JWTSessionError: {e}"),
                        ));
                        self.clean_session(req)
                    }
                };
                i.events.session(&session).await;
                let user = SessionUser {
                    id: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
                    name: str_claim(&claims, "name"),
                    email: str_claim(&claims, "email"),
                    image: str_claim(&claims, "picture"),
                };
                Resolution {
                    json: Some(session),
                    cookies,
                    session: Some(AuthSession {
                        user,
                        expires: new_expires,
                        claims: Some(claims),
                    }),
                }
            }
            Strategy::Database => {
                let Some(adapter) = &i.adapter else {
                    return Resolution::default();
                };
                let found = match adapter.get_session_and_user(&token).await {
                    Ok(found) => found,
                    Err(e) => {
                        tracing_log(&AuthError::new(
                            ErrorCode::Configuration,
                            format!("SessionTokenError: {e}"),
                        ));
                        return Resolution::default();
                    }
                };
                let found = match found {
                    Some((session, _)) if session.expires < now => {
                        if let Err(e) = adapter.delete_session(&token).await {
                            tracing_log(&e.into());
                        }
                        None
                    }
                    other => other,
                };
                let Some((session, user)) = found else {
                    return Resolution {
                        cookies: self.clean_session(req),
                        ..Resolution::default()
                    };
                };
                if session.expires - i.max_age + i.update_age <= now {
                    let update = SessionUpdate {
                        session_token: token.clone(),
                        expires: Some(new_expires),
                        user_id: None,
                    };
                    if let Err(e) = adapter.update_session(update).await {
                        tracing_log(&e.into());
                    }
                }
                let json = json!({
                    "user": { "name": user.name, "email": user.email, "image": user.image },
                    "expires": iso(session.expires),
                });
                let json = i.callbacks.session(json, Some(&user), None).await;
                i.events.session(&json).await;
                Resolution {
                    json: Some(json),
                    cookies: vec![SetCookie {
                        name: i.cookies.session_token.clone(),
                        value: token,
                        life: Life::Until(new_expires),
                    }],
                    session: Some(AuthSession {
                        user: SessionUser {
                            id: Some(user.id.clone()),
                            name: user.name.clone(),
                            email: user.email.clone(),
                            image: user.image.clone(),
                        },
                        expires: session.expires,
                        claims: None,
                    }),
                }
            }
        }
    }

    // ---------------------------------------------------------------- sign-in

    async fn signin(&self, ctx: &mut Ctx, id: &str) -> Result<Reply, AuthError> {
        let signin_url = format!("{}/signin", self.api_url());
        match self.provider(id).cloned() {
            None => Ok(Reply::redirect(signin_url)),
            Some(Provider::Email(p)) => self.send_token(ctx, &p).await,
            Some(Provider::OAuth(p)) => self.authorize(&p).await,
        }
    }

    async fn send_token(
        &self,
        ctx: &mut Ctx,
        provider: &EmailProvider,
    ) -> Result<Reply, AuthError> {
        let i = &self.inner;
        let adapter = i.adapter.as_ref().ok_or_else(|| {
            AuthError::new(
                ErrorCode::Configuration,
                "the email provider needs an adapter",
            )
        })?;
        let typed = ctx.req.body.get("email").map(String::as_str).unwrap_or("");
        let email = (provider.normalizer)(typed).ok_or_else(|| {
            AuthError::new(ErrorCode::Configuration, "invalid email address format")
        })?;
        let user = match adapter.get_user_by_email(&email).await? {
            Some(user) => user,
            None => NewUser {
                email: Some(email.clone()),
                ..NewUser::default()
            }
            .into_user(auth_core::new_id()),
        };
        let account = Account::new(&user.id, AccountType::Email, &provider.id, &email);
        if let Some(url) = self.sign_in_decision(&user, &account, true).await? {
            return Ok(Reply::redirect(url));
        }
        let token = random_token()
            .map_err(|e| AuthError::new(ErrorCode::Configuration, format!("random: {e}")))?;
        let expires = self.now() + provider.max_age;
        let link = format!(
            "{}/callback/{}?{}",
            self.api_url(),
            provider.id,
            form_urlencoded::Serializer::new(String::new())
                .append_pair("callbackUrl", &ctx.callback_url)
                .append_pair("token", &token)
                .append_pair("email", &email)
                .finish()
        );
        adapter
            .create_verification_token(VerificationToken {
                identifier: email.clone(),
                token: email_token_hash(&token, &i.secrets),
                expires,
            })
            .await?;
        let request = VerificationRequest {
            identifier: email,
            url: link,
            expires,
            provider_id: provider.id.clone(),
        };
        provider
            .mailer
            .send(&request)
            .await
            .map_err(|e| AuthError::new(ErrorCode::EmailSignInError, e.to_string()))?;
        Ok(Reply::redirect(format!(
            "{}/verify-request?{}",
            self.api_url(),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("provider", &provider.id)
                .append_pair("type", "email")
                .finish()
        )))
    }

    async fn authorize(&self, provider: &OAuthProvider) -> Result<Reply, AuthError> {
        let i = &self.inner;
        let redirect_uri = format!("{}/callback/{}", self.api_url(), provider.id());
        let request = provider
            .authorization_request(&redirect_uri)
            .await
            .map_err(|e| {
                AuthError::new(ErrorCode::Configuration, format!("OAuthSignInError: {e}"))
            })?;
        let mut reply = Reply::redirect(request.url.clone());
        let checks = [
            (&i.cookies.state, request.checks.state.clone()),
            (
                &i.cookies.pkce_code_verifier,
                request.checks.pkce_verifier.clone(),
            ),
            (&i.cookies.nonce, request.checks.nonce.clone()),
        ];
        for (name, value) in checks {
            let Some(value) = value else { continue };
            let claims = CheckClaims {
                value,
                provider: provider.id().to_owned(),
            };
            let jwe = i
                .jwt
                .encode_with_max_age(
                    name,
                    &claims,
                    std::time::Duration::from_secs(CHECK_MAX_AGE as u64),
                )
                .map_err(|e| {
                    AuthError::new(ErrorCode::Configuration, format!("check cookie: {e}"))
                })?;
            reply.cookies.push(SetCookie {
                name: name.clone(),
                value: jwe,
                life: Life::Seconds(CHECK_MAX_AGE),
            });
        }
        Ok(reply)
    }

    /// Runs the sign-in callback once (Auth.js's `handleAuthorized`):
    /// `AccessDenied` on deny, `Some(url)` (through the redirect callback)
    /// when it answered with a URL, `None` to go on.
    async fn sign_in_decision(
        &self,
        user: &User,
        account: &Account,
        verification_request: bool,
    ) -> Result<Option<String>, AuthError> {
        let decision = self
            .inner
            .callbacks
            .sign_in(SignInAttempt {
                user,
                account,
                verification_request,
            })
            .await;
        match decision {
            SignInDecision::Allow => Ok(None),
            SignInDecision::Deny => Err(AuthError::new(
                ErrorCode::AccessDenied,
                "the sign-in callback refused",
            )),
            SignInDecision::Redirect(url) => Ok(Some(
                self.inner.callbacks.redirect(&url, &self.inner.origin),
            )),
        }
    }

    // --------------------------------------------------------------- callback

    async fn callback(&self, ctx: &mut Ctx, id: &str) -> Result<Reply, AuthError> {
        match self.provider(id).cloned() {
            None => Err(AuthError::new(
                ErrorCode::Configuration,
                "InvalidProvider: callback for an unknown provider",
            )),
            Some(Provider::Email(p)) => self.email_callback(ctx, &p).await,
            Some(Provider::OAuth(p)) => self.oauth_callback(ctx, &p).await,
        }
    }

    async fn email_callback(
        &self,
        ctx: &mut Ctx,
        provider: &EmailProvider,
    ) -> Result<Reply, AuthError> {
        let i = &self.inner;
        let adapter = i.adapter.clone().ok_or_else(|| {
            AuthError::new(
                ErrorCode::Configuration,
                "the email provider needs an adapter",
            )
        })?;
        let Some(token) = ctx.req.query.get("token").cloned() else {
            return Err(AuthError::new(
                ErrorCode::Configuration,
                "missing token in the sign-in link",
            ));
        };
        let identifier = ctx.req.query.get("email").cloned().unwrap_or_default();
        let invite = adapter
            .use_verification_token(&identifier, &email_token_hash(&token, &i.secrets))
            .await?;
        let invite = match invite {
            Some(v) if v.expires >= self.now() && v.identifier == identifier => v,
            _ => {
                return Err(AuthError::new(
                    ErrorCode::Verification,
                    "the sign-in link is unknown, used, expired or for another address",
                ));
            }
        };
        let email = invite.identifier;
        let stored = adapter.get_user_by_email(&email).await?;
        let user = match stored.clone() {
            Some(user) => user,
            None => NewUser {
                email: Some(email.clone()),
                ..NewUser::default()
            }
            .into_user(auth_core::new_id()),
        };
        let account = Account::new(&user.id, AccountType::Email, &provider.id, &email);
        if let Some(url) = self.sign_in_decision(&user, &account, false).await? {
            return Ok(Reply::redirect(url));
        }
        let session_token = self.session_token(&ctx.req);
        let current = self.current_user(session_token.as_deref()).await;
        let now = self.now();
        let (user, is_new) = match stored {
            Some(existing) => {
                if self.inner.strategy == Strategy::Database
                    && current.as_ref().map(|u| &u.id) != Some(&existing.id)
                    && let Some(token) = &session_token
                {
                    adapter.delete_session(token).await?;
                }
                let user = adapter
                    .update_user(UserUpdate {
                        email_verified: Some(Some(now)),
                        ..UserUpdate::new(&existing.id)
                    })
                    .await?;
                i.events.update_user(&user).await;
                (user, false)
            }
            None => {
                let user = adapter
                    .create_user(NewUser {
                        email: Some(email.clone()),
                        email_verified: Some(now),
                        ..NewUser::default()
                    })
                    .await?;
                i.events.create_user(&user).await;
                (user, true)
            }
        };
        let account = Account::new(&user.id, AccountType::Email, &provider.id, &email);
        let mut reply = Reply::redirect(ctx.callback_url.clone());
        reply.cookies = self.start_session(&ctx.req, &user, is_new, None).await?;
        i.events.sign_in(&user, &account, is_new).await;
        Ok(reply)
    }

    /// The user the request is signed in as, if any (for linking).
    async fn current_user(&self, session_token: Option<&str>) -> Option<User> {
        let token = session_token?;
        let i = &self.inner;
        let adapter = i.adapter.as_ref()?;
        match i.strategy {
            Strategy::Database => adapter
                .get_session_and_user(token)
                .await
                .ok()
                .flatten()
                .map(|(_, u)| u),
            Strategy::Jwt => {
                let claims: Map<String, Value> =
                    i.jwt.decode(&i.cookies.session_token, token).ok()?;
                let sub = claims.get("sub")?.as_str()?;
                adapter.get_user(sub).await.ok().flatten()
            }
        }
    }

    /// Creates the session for `user` and returns its cookies: a database
    /// session row and its cookie, or a JWT (through the jwt callback).
    async fn start_session(
        &self,
        req: &Parsed,
        user: &User,
        is_new: bool,
        existing: Option<Session>,
    ) -> Result<Vec<SetCookie>, AuthError> {
        let i = &self.inner;
        let expires = self.now() + i.max_age;
        match i.strategy {
            Strategy::Database => {
                let adapter = i
                    .adapter
                    .as_ref()
                    .ok_or_else(|| AuthError::new(ErrorCode::Configuration, "no adapter"))?;
                let session = match existing {
                    Some(session) => session,
                    None => {
                        adapter
                            .create_session(Session {
                                session_token: auth_core::new_id(),
                                user_id: user.id.clone(),
                                expires,
                            })
                            .await?
                    }
                };
                Ok(vec![SetCookie {
                    name: i.cookies.session_token.clone(),
                    value: session.session_token,
                    life: Life::Until(session.expires),
                }])
            }
            Strategy::Jwt => {
                let mut token = Map::new();
                token.insert("name".into(), json!(user.name));
                token.insert("email".into(), json!(user.email));
                token.insert("picture".into(), json!(user.image));
                token.insert("sub".into(), json!(user.id));
                let trigger = if is_new {
                    JwtTrigger::SignUp
                } else {
                    JwtTrigger::SignIn
                };
                match i.callbacks.jwt(token, Some(user), trigger, None).await {
                    None => Ok(self.clean_session(req)),
                    Some(claims) => {
                        let jwe = i
                            .jwt
                            .encode(&i.cookies.session_token, &claims)
                            .map_err(|e| {
                                AuthError::new(ErrorCode::Configuration, format!("encode: {e}"))
                            })?;
                        Ok(self.jwt_cookies(req, &jwe, expires))
                    }
                }
            }
        }
    }

    async fn oauth_callback(
        &self,
        ctx: &mut Ctx,
        provider: &OAuthProvider,
    ) -> Result<Reply, AuthError> {
        let i = &self.inner;
        let pairs: Vec<(String, String)> = if ctx.req.method == Method::POST {
            ctx.req
                .body
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            ctx.req
                .query
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let params = CallbackParams::from_pairs(pairs);
        let mut checks = Checks::default();
        let mut cleared = Vec::new();
        for (name, slot) in [
            (&i.cookies.state, &mut checks.state),
            (&i.cookies.pkce_code_verifier, &mut checks.pkce_verifier),
            (&i.cookies.nonce, &mut checks.nonce),
        ] {
            let Some(value) = ctx.req.cookie(name) else {
                continue;
            };
            let claims: CheckClaims = i.jwt.decode(name, value).map_err(|e| {
                AuthError::new(ErrorCode::InvalidCheck, format!("{name} cookie: {e}"))
            })?;
            if claims.provider != provider.id() {
                return Err(AuthError::new(
                    ErrorCode::InvalidCheck,
                    format!("{name} cookie is for another provider"),
                ));
            }
            *slot = Some(claims.value);
            cleared.push(SetCookie {
                name: name.clone(),
                value: String::new(),
                life: Life::Seconds(0),
            });
        }
        ctx.cookies.append(&mut cleared);
        let redirect_uri = format!("{}/callback/{}", self.api_url(), provider.id());
        let outcome = provider
            .complete(&redirect_uri, &params, &checks)
            .await
            .map_err(|e| {
                let code = match e.code() {
                    "OAuthCallbackError" => ErrorCode::OAuthCallbackError,
                    "AccessDenied" => ErrorCode::AccessDenied,
                    "InvalidCheck" => ErrorCode::InvalidCheck,
                    _ => ErrorCode::Configuration,
                };
                AuthError::new(code, e.to_string())
            })?;
        let profile = outcome.profile;
        let provider_account_id = profile.id.clone();
        let from_provider = User {
            id: auth_core::new_id(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            email_verified: None,
            image: profile.image.clone(),
        };
        let account_template = outcome
            .tokens
            .into_account("", provider, &provider_account_id);

        let Some(adapter) = i.adapter.clone() else {
            // JWT sessions without a database: the profile is the user.
            let account = Account {
                user_id: from_provider.id.clone(),
                ..account_template
            };
            if let Some(url) = self
                .sign_in_decision(&from_provider, &account, false)
                .await?
            {
                return Ok(Reply::redirect(url));
            }
            let user = User {
                id: provider_account_id.clone(),
                ..from_provider
            };
            let mut reply = Reply::redirect(ctx.callback_url.clone());
            reply.cookies = self.start_session(&ctx.req, &user, false, None).await?;
            i.events.sign_in(&user, &account, false).await;
            return Ok(reply);
        };

        let by_account = adapter
            .get_user_by_account(provider.id(), &provider_account_id)
            .await?;
        let candidate = by_account.clone().unwrap_or_else(|| from_provider.clone());
        let candidate_account = Account {
            user_id: candidate.id.clone(),
            ..account_template.clone()
        };
        if let Some(url) = self
            .sign_in_decision(&candidate, &candidate_account, false)
            .await?
        {
            return Ok(Reply::redirect(url));
        }

        // Auth.js's handleLoginOrRegister for OAuth accounts.
        let session_token = self.session_token(&ctx.req);
        let (current_session, current_user) = match (i.strategy, session_token.as_deref()) {
            (Strategy::Database, Some(token)) => match adapter.get_session_and_user(token).await? {
                Some((s, u)) => (Some(s), Some(u)),
                None => (None, None),
            },
            (Strategy::Jwt, Some(_)) => (None, self.current_user(session_token.as_deref()).await),
            _ => (None, None),
        };
        if let Some(owner) = by_account {
            if let Some(current) = &current_user {
                if owner.id == current.id {
                    let account = Account {
                        user_id: owner.id.clone(),
                        ..account_template
                    };
                    let mut reply = Reply::redirect(ctx.callback_url.clone());
                    reply.cookies = self
                        .start_session(&ctx.req, current, false, current_session)
                        .await?;
                    i.events.sign_in(current, &account, false).await;
                    return Ok(reply);
                }
                return Err(AuthError::new(
                    ErrorCode::OAuthAccountNotLinked,
                    "the account is already associated with another user",
                ));
            }
            let account = Account {
                user_id: owner.id.clone(),
                ..account_template
            };
            let mut reply = Reply::redirect(ctx.callback_url.clone());
            reply.cookies = self.start_session(&ctx.req, &owner, false, None).await?;
            i.events.sign_in(&owner, &account, false).await;
            return Ok(reply);
        }
        if let Some(current) = current_user {
            let account = Account {
                user_id: current.id.clone(),
                ..account_template
            };
            let account = adapter.link_account(account).await?;
            i.events.link_account(&current, &account).await;
            let mut reply = Reply::redirect(ctx.callback_url.clone());
            reply.cookies = self
                .start_session(&ctx.req, &current, false, current_session)
                .await?;
            i.events.sign_in(&current, &account, false).await;
            return Ok(reply);
        }
        let by_email = match &profile.email {
            Some(email) => adapter.get_user_by_email(email).await?,
            None => None,
        };
        let (user, is_new) = match by_email {
            Some(existing) if provider.allow_dangerous_email_account_linking() => (existing, false),
            Some(_) => {
                return Err(AuthError::new(
                    ErrorCode::OAuthAccountNotLinked,
                    "another account already exists with the same e-mail address",
                ));
            }
            None => {
                let user = adapter
                    .create_user(NewUser {
                        name: profile.name.clone(),
                        email: profile.email.clone(),
                        email_verified: None,
                        image: profile.image.clone(),
                    })
                    .await?;
                i.events.create_user(&user).await;
                (user, true)
            }
        };
        let account = Account {
            user_id: user.id.clone(),
            ..account_template
        };
        let account = adapter.link_account(account).await?;
        i.events.link_account(&user, &account).await;
        let mut reply = Reply::redirect(ctx.callback_url.clone());
        reply.cookies = self.start_session(&ctx.req, &user, is_new, None).await?;
        i.events.sign_in(&user, &account, is_new).await;
        Ok(reply)
    }

    // --------------------------------------------------------------- sign-out

    async fn signout(&self, ctx: &mut Ctx) -> Result<Reply, AuthError> {
        let i = &self.inner;
        let mut reply = Reply::redirect(ctx.callback_url.clone());
        let Some(token) = self.session_token(&ctx.req) else {
            return Ok(reply);
        };
        match i.strategy {
            Strategy::Jwt => {
                let claims: Option<Map<String, Value>> =
                    i.jwt.decode(&i.cookies.session_token, &token).ok();
                let sub = claims
                    .as_ref()
                    .and_then(|c| c.get("sub"))
                    .and_then(Value::as_str);
                i.events.sign_out(sub).await;
            }
            Strategy::Database => {
                if let Some(adapter) = &i.adapter {
                    match adapter.delete_session(&token).await {
                        Ok(session) => {
                            i.events
                                .sign_out(session.as_ref().map(|s| s.user_id.as_str()))
                                .await
                        }
                        Err(e) => tracing_log(&e.into()),
                    }
                }
            }
        }
        reply.cookies = self.clean_session(&ctx.req);
        Ok(reply)
    }
}

fn require_csrf(ctx: &Ctx, action: &str) -> Result<(), AuthError> {
    if ctx.csrf_verified {
        Ok(())
    } else {
        Err(AuthError::new(
            ErrorCode::MissingCSRF,
            format!("CSRF token was missing during an action {action}"),
        ))
    }
}

fn str_claim(claims: &Map<String, Value>, key: &str) -> Option<String> {
    claims.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `toISOString()`.
pub(crate) fn iso(t: OffsetDateTime) -> String {
    auth_core::timestamp::format_iso("expires", t).unwrap_or_default()
}

/// Logs a failure through `tracing` (a warning with the Auth.js code); the
/// detail never holds a token or a secret.
fn tracing_log(error: &AuthError) {
    tracing::warn!(code = error.code.as_str(), "auth-engine: {}", error.detail);
}

/// The signed-in user, as app code sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionUser {
    /// The user's id (`sub` of a JWT).
    pub id: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The image URL.
    pub image: Option<String>,
}

/// A resolved session: who is signed in and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSession {
    /// The user.
    pub user: SessionUser,
    /// When the session expires if not used again.
    pub expires: OffsetDateTime,
    /// The JWT's claims (JWT strategy).
    pub claims: Option<Map<String, Value>>,
}

/// What resolving a request's session gives: the session, the JSON that
/// `GET /session` would answer, and the cookies to set (refreshed expiry,
/// or cleared when the session is gone).
#[derive(Default)]
pub struct Resolution {
    /// The session, if signed in.
    pub session: Option<AuthSession>,
    /// The JSON body of `GET /session` (`None` → `null`).
    pub json: Option<Value>,
    pub(crate) cookies: Vec<SetCookie>,
}

impl std::fmt::Debug for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolution")
            .field("session", &self.session)
            .field("cookies", &self.cookies.len())
            .finish()
    }
}

impl Resolution {
    /// The `Set-Cookie` header values to add to the response.
    pub fn set_cookie_headers(&self, secure: bool) -> Vec<String> {
        self.cookies.iter().map(|c| c.header(secure)).collect()
    }
}

impl Auth {
    /// Resolves the session of a request from its headers (cookies), as
    /// `GET /session` does: database sessions slide (written at most once
    /// per update age), expired ones are deleted; JWTs are re-issued. Apply
    /// [`Resolution::set_cookie_headers`] to the response to keep the
    /// browser's cookie in step.
    pub async fn resolve(&self, headers: &http::HeaderMap) -> Resolution {
        let req = Parsed {
            method: Method::GET,
            action: "session".into(),
            provider_id: None,
            query: Default::default(),
            body: Default::default(),
            data: None,
            cookies: request_cookies(headers),
            return_redirect: false,
        };
        self.resolve_parsed(&req, false, None).await
    }

    /// The session of a request, for app code; `None` when signed out.
    pub async fn session<B>(&self, request: &Request<B>) -> Option<AuthSession> {
        self.resolve(request.headers()).await.session
    }

    /// Whether the site is served over https (cookies get `Secure`).
    pub fn is_secure(&self) -> bool {
        self.inner.secure
    }
}
