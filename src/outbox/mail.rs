//! E-mail over SMTP with lettre (rustls with ring, no OpenSSL).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};

use super::channels::Message;
use super::deploy::Channel;

pub async fn send(
    name: &str,
    channel: &Channel,
    m: &Message,
    timeout: Duration,
) -> Result<(), String> {
    let Channel::Email {
        host,
        port,
        security,
        username,
        password,
        from,
        to,
    } = channel
    else {
        return Err(format!("{name}: not an e-mail channel"));
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{name}: {what}: {e}");
    let mut builder = match security.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| fail("smtp", &e))?,
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| fail("smtp", &e))?,
        _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    if let Some(p) = port {
        builder = builder.port(*p);
    }
    if let (Some(u), Some(p)) = (username, password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let transport = builder.timeout(Some(timeout)).build();
    let mut mail = Mail::builder()
        .from(from.parse().map_err(|e| fail("from address", &e))?)
        .subject(format!("[steward] {} {}: {}", m.ticket, m.estate, m.kind))
        .message_id(Some(format!("<{}@steward>", m.delivery_id)))
        .header(ContentType::TEXT_PLAIN);
    for t in to {
        mail = mail.to(t.parse().map_err(|e| fail("to address", &e))?);
    }
    let body = format!(
        "{}\n\nticket: {}\nestate: {}\nrecipient: {}\nrule: {}\ntime: {}\ndelivery: {}\n",
        m.text,
        m.ticket,
        m.estate,
        m.recipient,
        m.rule.as_deref().unwrap_or("-"),
        m.at,
        m.delivery_id
    );
    let mail = mail.body(body).map_err(|e| fail("message", &e))?;
    match tokio::time::timeout(timeout, transport.send(mail)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(fail("smtp", &e)),
        Err(_) => Err(format!("{name}: timed out")),
    }
}
