//! Enrolment by QR code: [`parse_enrol_link`] reads what the console's QR code holds
//! (`linli://enrol?server=…&code=…`), [`enrol`] exchanges the single-use code for this
//! device's token. A bad link is `InvalidInput` (field `link`, `server` or `code`); a used or
//! expired code is `InvalidInput { field: "enrol_code", reason: "used_or_expired" }` (ask the
//! admin for a new QR code); too many failures are `Server { reason: "throttled" }`.

use linli_core::{EnrolLink, Enrolment, Role};

use crate::Result;

#[uniffi::remote(Record)]
pub struct EnrolLink {
    pub server_url: String,
    pub code: String,
}

#[uniffi::remote(Record)]
pub struct Enrolment {
    pub server_url: String,
    pub device_id: String,
    pub token: String,
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
}

#[uniffi::export]
pub fn parse_enrol_link(text: String) -> Result<EnrolLink> {
    Ok(linli_core::parse_enrol_link(&text)?)
}

#[uniffi::export(async_runtime = "tokio")]
pub async fn enrol(
    link: EnrolLink,
    device_name: String,
    trusted_certificates: Option<String>,
) -> Result<Enrolment> {
    Ok(linli_core::enrol(&link, &device_name, trusted_certificates.as_deref()).await?)
}
