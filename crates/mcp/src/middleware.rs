//! What wraps every tool route, outermost first:
//!
//! 1. **metrics** ([`count_and_time`], HTTP): each call is counted and timed per tool in
//!    [`Metrics::global`], with how it ended (a result, an `isError` result, a JSON-RPC error);
//! 2. **the per-tenant call cap** ([`limit_calls_per_tenant`], HTTP): a call first takes one
//!    of its tenant's slots in the [`CallLimiter`], or is refused with a tool error;
//! 3. **the text-only form** ([`text_only`], every transport, unless `SFMCP_ANSWER_FORM=both`):
//!    results carry no structured content;
//! 4. **the scope check** ([`require_scopes`], every transport): a call needing an OAuth scope
//!    the connection's grant is known to lack is refused before any request (see
//!    [`crate::scopes`]);
//! 5. **the usage warning** ([`warn_on_usage`], every transport): a result of a tenant whose
//!    org is past `SFMCP_USAGE_WARN_PERCENT` of its daily API allocation says so;
//! 6. **the tool** itself.
//!
//! The cap sits inside the metrics, so a call it refuses is counted as a tool error of that
//! tool and the time spent waiting for a slot is part of its latency: an operator sees the
//! refusals where the model does. The warning sits right around the tool, so it reads the
//! usage the call itself just brought back. [`crate::server::SfServer::router`] adds the
//! warning for every transport; [`wrap`] adds the HTTP layers around it. Stdio serves one
//! client with one org, so it has no cap and no `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use rmcp::ErrorData;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};

use crate::error::ToolError;
use crate::metrics::{Metrics, Outcome};
use crate::server::SfServer;
use crate::transport::tenants::CallLimiter;

/// Wraps every route of `router` in the layers above, in that order.
pub fn wrap(router: &mut ToolRouter<SfServer>, limiter: Arc<CallLimiter>) {
    // Applied inside out: each wrapper goes around what is already there.
    limit_calls_per_tenant(router, limiter);
    count_and_time(router);
}

/// Makes every result of `router` end with the usage warning of its tenant's org, when its
/// usage is past the warning share: the model then learns it while it can still save calls,
/// not only when it asks `org_limits`.
pub fn warn_on_usage(router: &mut ToolRouter<SfServer>) {
    for route in router.map.values_mut() {
        let inner = Arc::clone(&route.call);
        route.call = Arc::new(route_handler(
            move |context: ToolCallContext<'_, SfServer>| {
                let client = context.service.client(&context.request_context).ok();
                let call = inner(context);
                Box::pin(async move {
                    let mut result = call.await;
                    if let (Some(client), Ok(CallToolResponse::Complete(done))) =
                        (client, &mut result)
                        && let Some(warning) = client.usage().warning()
                    {
                        add_warning(done, &warning);
                    }
                    result
                })
            },
        ));
    }
}

/// Drops the structured content of every result of `router`: in the text answer form
/// ([`crate::render::AnswerForm::Text`]) no tool declares an `outputSchema`, and clients that
/// prefer structured content then give the model the text, which carries everything. Tools
/// whose structured content costs real work (queries) skip building it; this is the one
/// place that makes sure none is sent.
pub fn text_only(router: &mut ToolRouter<SfServer>) {
    for route in router.map.values_mut() {
        let inner = Arc::clone(&route.call);
        route.call = Arc::new(route_handler(
            move |context: ToolCallContext<'_, SfServer>| {
                let call = inner(context);
                Box::pin(async move {
                    let mut result = call.await;
                    if let Ok(CallToolResponse::Complete(done)) = &mut result {
                        done.structured_content = None;
                    }
                    result
                })
            },
        ));
    }
}

/// Makes every call of `router` first check that its connection's grant has the scopes the
/// tool needs ([`crate::scopes::refusal`]). A call whose connection cannot be resolved runs
/// as is: the tool itself reports why.
pub fn require_scopes(router: &mut ToolRouter<SfServer>) {
    for (name, route) in router.map.iter_mut() {
        let inner = Arc::clone(&route.call);
        let name = name.to_string();
        route.call = Arc::new(route_handler(
            move |context: ToolCallContext<'_, SfServer>| {
                let signed_in = context
                    .request_context
                    .extensions
                    .get::<axum::http::request::Parts>()
                    .is_some_and(|parts| {
                        parts
                            .extensions
                            .get::<crate::transport::oauth::TokenGrant>()
                            .is_some()
                    });
                let refusal = context
                    .service
                    .client(&context.request_context)
                    .ok()
                    .and_then(|client| crate::scopes::refusal(&name, &client, signed_in));
                match refusal {
                    Some(refusal) => Box::pin(std::future::ready(Ok(CallToolResponse::Complete(
                        refusal.into_result(),
                    )))),
                    None => inner(context),
                }
            },
        ));
    }
}

/// Appends `warning` to the result's text, unless the tool said it already (`org_limits`).
fn add_warning(result: &mut CallToolResult, warning: &str) {
    let mut texts = result.content.iter_mut().filter_map(|block| match block {
        ContentBlock::Text(text) => Some(text),
        _ => None,
    });
    let line = format!("warning: {warning}\n");
    match texts.next() {
        Some(text) if text.text.contains(warning) => {}
        Some(text) => {
            if !text.text.is_empty() && !text.text.ends_with('\n') {
                text.text.push('\n');
            }
            text.text.push_str(&line);
        }
        None => result.content.push(ContentBlock::text(line)),
    }
}

/// Makes every tool call of `router` take a slot of its tenant in `limiter` first. A call
/// whose tenant cannot be resolved runs as is: the tool itself reports why.
pub fn limit_calls_per_tenant(router: &mut ToolRouter<SfServer>, limiter: Arc<CallLimiter>) {
    for route in router.map.values_mut() {
        let inner = Arc::clone(&route.call);
        let limiter = Arc::clone(&limiter);
        route.call = Arc::new(route_handler(
            move |context: ToolCallContext<'_, SfServer>| {
                let tenant = context
                    .service
                    .client(&context.request_context)
                    .ok()
                    .map(|client| client.tenant().clone());
                let limiter = Arc::clone(&limiter);
                let inner = Arc::clone(&inner);
                Box::pin(async move {
                    let _permit = match tenant {
                        Some(tenant) => match limiter.acquire(&tenant).await {
                            Ok(permit) => Some(permit),
                            Err(refusal) => {
                                return Ok(CallToolResponse::Complete(
                                    ToolError::Denied(refusal.0).into_result(),
                                ));
                            }
                        },
                        None => None,
                    };
                    inner(context).await
                })
            },
        ));
    }
}

/// Wraps every route so its calls are counted and timed in [`Metrics::global`].
pub fn count_and_time<S: Send + Sync + 'static>(router: &mut ToolRouter<S>) {
    for (name, route) in router.map.iter_mut() {
        let inner = Arc::clone(&route.call);
        let name = name.to_string();
        route.call = Arc::new(route_handler(move |context: ToolCallContext<'_, S>| {
            let call = inner(context);
            let name = name.clone();
            Box::pin(async move {
                let started = Instant::now();
                let result = call.await;
                let outcome = match &result {
                    Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => {
                        Outcome::ToolError
                    }
                    Ok(_) => Outcome::Ok,
                    Err(_) => Outcome::ProtocolError,
                };
                Metrics::global().record(&name, outcome, started.elapsed().as_secs_f64());
                result
            })
        }));
    }
}

type CallFuture<'s> =
    Pin<Box<dyn Future<Output = Result<CallToolResponse, ErrorData>> + Send + 's>>;

/// Pins a closure to the higher-ranked signature a route's handler has, which closure
/// inference does not find on its own.
fn route_handler<S, F>(f: F) -> F
where
    F: for<'s> Fn(ToolCallContext<'s, S>) -> CallFuture<'s> + Send + Sync + 'static,
{
    f
}
