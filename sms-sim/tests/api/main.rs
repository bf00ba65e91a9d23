//! The SMS centre over real sockets: `run` in-process, `EsmeClient` and raw SMPP as ESMEs, reqwest as phones.

mod cmpp_ismg;
mod cmpp_windows_and_queries;
mod delivery_under_load;
mod helpers;
mod http_api;
mod mobile_originated;
mod mobile_terminated;
mod oversized_bodies;
mod provincial_routing;
mod sessions;
mod strict_smpp;
mod submit_window;
mod third_party;
