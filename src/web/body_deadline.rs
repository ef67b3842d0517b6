//! A deadline on request bodies. actix-web bounds how long a request's head
//! may take (`client_request_timeout`), not its body: a client trickling a
//! byte now and then would hold its connection, and the task waiting for the
//! form, for ever. So the body must be in within `Config::body_timeout` of
//! the head (`Config::upload_timeout` for an upload of photos); past that, reading it fails, the answer is a 408 page, and actix
//! closes the connection, since the rest of the body was never read.

use std::{
    cell::Cell,
    io,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_web::{
    Error, HttpMessage as _,
    body::{BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    middleware::Next,
    web::{self, Bytes},
};
use futures_util::Stream;
use tokio::time::Sleep;

use crate::{
    app::AppState,
    web::{AppError, uploads},
};

/// Middleware: wraps the body (if any) in the deadline, and answers 408 when
/// whoever read it ran into the deadline.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(timeout) = req.app_data::<web::Data<AppState>>().map(|state| {
        if uploads::takes_files(req.path()) && uploads::is_multipart(req.headers()) {
            state.config.upload_timeout
        } else {
            state.config.body_timeout
        }
    }) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let expired = Rc::new(Cell::new(false));
    match req.take_payload() {
        Payload::None => {}
        body => {
            let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(Deadline {
                    body,
                    timer: Box::pin(tokio::time::sleep(timeout)),
                    expired: expired.clone(),
                    done: false,
                });
            req.set_payload(Payload::from(body));
        }
    }
    let res = next.call(req).await?;
    if expired.get() {
        // Whatever the reader made of the cut body (a missing token, an
        // unreadable form), the answer is that it came too slowly.
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::from_err(AppError::RequestTimeout, req));
    }
    Ok(res.map_into_boxed_body())
}

/// A request body that fails once its timer has run out.
struct Deadline {
    body: Payload,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.expired.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(None) = next {
            this.done = true;
        }
        next
    }
}
