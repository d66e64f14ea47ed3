//! The SMTP mailer against a real (minimal) SMTP server on 127.0.0.1: what
//! lettre sends on the wire, and a refusal becoming a `MailError`.

use std::sync::{Arc, Mutex};

use auth_engine::{Mailer, SmtpMailer, VerificationRequest};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A one-connection SMTP server that records the commands and the message,
/// and answers `550` to recipients in `refuse`.
async fn smtp_server(refuse: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write
            .write_all(b"220 localhost ESMTP test\r\n")
            .await
            .unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            seen.lock().unwrap().push(line.clone());
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT TO") && line.contains(refuse) {
                b"550 5.1.1 no such user\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 OK\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (port, log)
}

fn request(to: &str) -> VerificationRequest {
    VerificationRequest {
        identifier: to.to_owned(),
        url: "http://127.0.0.1:3000/api/auth/callback/email?token=SECRET-TOKEN&email=x".to_owned(),
        expires: OffsetDateTime::now_utc(),
        provider_id: "email".to_owned(),
    }
}

#[tokio::test]
async fn sends_the_link_over_smtp() {
    let (port, log) = smtp_server("nobody").await;
    let mailer = SmtpMailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Demo <no-reply@example.com>",
    )
    .unwrap()
    .site_name("Demo");
    mailer
        .send(&request("ada@example.com"))
        .await
        .expect("sent");
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("MAIL FROM:<no-reply@example.com>"), "{log}");
    assert!(log.contains("RCPT TO:<ada@example.com>"), "{log}");
    assert!(log.contains("Subject: Sign in to Demo"), "{log}");
    assert!(
        log.contains("token=SECRET-TOKEN"),
        "the link is in the body: {log}"
    );
}

#[tokio::test]
async fn a_refused_recipient_is_a_mail_error_without_the_link() {
    let (port, _log) = smtp_server("mallory").await;
    let mailer =
        SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), "no-reply@example.com").unwrap();
    let err = mailer
        .send(&request("mallory@example.com"))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("550") || text.contains("no such user"),
        "{text}"
    );
    assert!(
        !text.contains("SECRET-TOKEN"),
        "the link never appears in errors: {text}"
    );
}

#[tokio::test]
async fn bad_configuration_is_refused_and_debug_hides_credentials() {
    assert!(SmtpMailer::new("not a url", "a@b.c").is_err());
    assert!(SmtpMailer::new("smtp://127.0.0.1:25", "not an address").is_err());
    let mailer = SmtpMailer::new("smtps://user:hunter2@smtp.example.com", "a@b.c").unwrap();
    assert!(!format!("{mailer:?}").contains("hunter2"));
}
