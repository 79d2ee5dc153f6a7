//! A deadline for the whole request body. actix-web bounds the time to send a request's head,
//! not its body: a client that announces `Content-Length: 60000` and sends a byte every few
//! seconds would hold its connection (and a file descriptor) for as long as it likes, and a
//! thousand such clients stop a server serving anyone. A body not complete within the deadline
//! is cut off: the request is answered 408 and the connection closed. A request without a body
//! (every page view) pays nothing for it. Called by the request middleware.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::web::Bytes;
use futures_core::Stream;

/// The body of a request, cut off at a deadline.
struct Timed {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Set when the deadline cut the body off, for the response to say so.
    expired: Rc<Cell<bool>>,
}

impl Stream for Timed {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether the request says a body follows: GETs and the page's links carry none, and pay
/// nothing for the deadline.
fn has_body(req: &ServiceRequest) -> bool {
    req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// Puts the deadline on `req`'s body, if it has one; the flag says, once the request is
/// served, whether the deadline cut the body off.
pub fn start(req: &mut ServiceRequest) -> Option<Rc<Cell<bool>>> {
    if !has_body(req) {
        return None;
    }
    let within = req
        .app_data::<actix_web::web::Data<crate::core::Context>>()
        .map_or(Duration::from_secs(10), |ctx| {
            Duration::from_secs(ctx.settings.body_timeout_secs)
        });
    let expired = Rc::new(Cell::new(false));
    let timed = Timed {
        inner: req.take_payload(),
        deadline: Box::pin(tokio::time::sleep(within)),
        expired: Rc::clone(&expired),
    };
    req.set_payload(Payload::from(
        Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    Some(expired)
}

/// A response to a request whose body the deadline cut off: 408, and the connection closed.
pub fn cut_off<B>(res: &mut ServiceResponse<B>) {
    *res.response_mut().status_mut() = StatusCode::REQUEST_TIMEOUT;
    res.response_mut()
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
}
