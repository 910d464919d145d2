//! The exporter's HTTP side (hyper 1, HTTP/1.1): `/metrics` in the format
//! the scraper's `Accept` header asks for, `/` a short page linking it,
//! anything else 404. GET and HEAD only. A scrape reads the published
//! state and sends nothing to Redis.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::exporter::metrics::{Format, RenderOptions, render};
use crate::exporter::poller::Published;
use crate::redis::id::now_ms;

/// A client that has not sent its request headers within this is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

const INDEX: &str = "<!doctype html>\n<html><head><title>streamlab exporter</title></head>\n<body><h1>streamlab exporter</h1>\n<p>Redis Streams metrics for Prometheus: <a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

/// Answer connections on `listener` until `cancel`.
pub async fn serve(
    listener: TcpListener,
    state: watch::Receiver<Published>,
    options: RenderOptions,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, or a connection reset before
                // it was taken: the next one may do.
                tracing::warn!("exporter: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = state.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let answer = answer(&req, &state, options);
                async move { Ok::<_, Infallible>(answer) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                () = cancel.cancelled() => {}
                served = conn => {
                    if let Err(e) = served {
                        tracing::debug!("exporter: connection ended: {e}");
                    }
                }
            }
        });
    }
}

/// The response to one request.
fn answer(
    req: &Request<Incoming>,
    state: &watch::Receiver<Published>,
    options: RenderOptions,
) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    match req.uri().path() {
        "/metrics" => {
            let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
            let format = Format::negotiate(accept);
            let published = state.borrow().clone();
            match render(&published, now_ms(), options, format) {
                Ok(text) => body(StatusCode::OK, format.content_type(), text),
                Err(_) => plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot encode the metrics\n",
                ),
            }
        }
        "/" => body(StatusCode::OK, "text/html; charset=utf-8", INDEX.to_owned()),
        _ => plain(
            StatusCode::NOT_FOUND,
            "not found: the metrics are at /metrics\n",
        ),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    body(status, "text/plain; charset=utf-8", text.to_owned())
}

fn body(status: StatusCode, content_type: &'static str, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
