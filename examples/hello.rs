//! The benchmark's ceiling: the plainest actix-web server, on the same actix-web as caisse and
//! with the same number of workers, answering `Hello, world!` to `GET /`. What caisse reaches
//! beside it on the same machine in the same run is what `bench/run` reports.
//!
//! ```sh
//! cargo run --release --example hello -- 127.0.0.1:8081   # or HELLO_BIND=…
//! ```
//!
//! Workers: `CAISSE_WORKERS`, as for caisse, else one per core (actix-web's default, which is
//! also caisse's).

use actix_web::{App, HttpResponse, HttpServer, get};

#[get("/")]
async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("Hello, world!")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("HELLO_BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8081".to_string());
    let mut server = HttpServer::new(|| App::new().service(hello));
    if let Some(n) = std::env::var("CAISSE_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        server = server.workers(n.max(1));
    }
    println!("hello is listening on http://{bind}");
    server.bind(&bind)?.run().await
}
