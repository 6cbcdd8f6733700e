//! The baseline for the HTTP figures: an axum server on the same runtime set-up as
//! `keuze serve` whose `POST /v1/decide` reads the body and returns a constant decision.
//! Everything Keuze does on top of this (auth, JSON, pseudonyms, the index, metrics) is
//! what the HTTP benchmark measures.

use anyhow::Context;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::post;
use axum::Router;
use clap::Parser;

/// A decision of the same shape and size as Keuze's, so both send the same bytes.
const ANSWER: &str = r#"{"subject":"5f2b5c3f0a9e4d7c8b1a6e5d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a09","purpose":"newsletter","allowed":true,"reason":"granted","event":123456,"catalog_version":1}"#;

#[derive(Debug, Parser)]
#[command(about = "A bare axum endpoint returning a constant: the HTTP benchmark's baseline")]
struct Args {
    /// Address to listen on; port 0 picks a free port, printed on stdout.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

async fn decide(_body: Bytes) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "application/json")], ANSWER)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The same runtime as `keuze serve`: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async {
        let app = Router::new()
            .route("/v1/decide", post(decide))
            .route("/v1/decide/batch", post(decide));
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("could not listen on {}", args.listen))?;
        println!("bare-server listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server failed")
    })
}
