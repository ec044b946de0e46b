//! The sync server's JSON API (`/api/v1`) as the console calls it: reporting an incident,
//! listing incidents with their deadlines, reading escalation notifications. Bearer tokens
//! are enrolled devices', as the API takes them until the console has sessions.

use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::server::Server;
use crate::{Res, fail};

async fn send(request: reqwest::RequestBuilder) -> Res<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.bytes().await?)?;
    if !status.is_success() {
        return fail(format!("the API answered {status}: {body}"));
    }
    Ok(body)
}

/// Reports an incident at `place` (a grid, building or unit); its id.
pub fn report(
    rt: &Runtime,
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    place: &str,
    description: &str,
) -> Res<String> {
    let body = json!({"category": "parking", "description": description, "place_id": place});
    let url = format!("{}/api/v1/incidents", server.url());
    let request = client
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body)?);
    let v = rt.block_on(send(request))?;
    match v.get("id").and_then(Value::as_str) {
        Some(id) => Ok(id.to_owned()),
        None => fail("a report without an id"),
    }
}

/// The response deadline (`respond_by`, on the server's clock) of every incident in scope
/// that has one: (id, deadline).
pub fn response_deadlines(
    rt: &Runtime,
    client: &reqwest::Client,
    server: &Server,
    token: &str,
) -> Res<Vec<(String, i64)>> {
    let url = format!("{}/api/v1/incidents", server.url());
    let v = rt.block_on(send(client.get(url).bearer_auth(token)))?;
    let rows = v.as_array().cloned().unwrap_or_default();
    Ok(rows
        .iter()
        .filter_map(|i| {
            let id = i.get("id")?.as_str()?.to_owned();
            Some((id, i.get("respond_by")?.as_i64()?))
        })
        .collect())
}

/// A notification: (its number, the incident, the server's clock when it was written).
pub type Notice = (u64, String, i64);

/// Notifications after number `after`, oldest first.
pub fn notifications(
    rt: &Runtime,
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    after: u64,
) -> Res<Vec<Notice>> {
    let url = format!("{}/api/v1/notifications?after={after}", server.url());
    let v = rt.block_on(send(client.get(url).bearer_auth(token)))?;
    let rows = v.as_array().cloned().unwrap_or_default();
    Ok(rows
        .iter()
        .filter_map(|n| {
            Some((
                n.get("id")?.as_u64()?,
                n.get("incident_id")?.as_str()?.to_owned(),
                n.get("at")?.as_i64()?,
            ))
        })
        .collect())
}
