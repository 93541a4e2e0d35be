//! kstrun: start a program with its secrets and nothing else.
pub mod kstlib_config;
pub mod manifest;
pub mod secrets;
pub mod sops;
