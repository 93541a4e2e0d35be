//! kstrun: start a program with its secrets and nothing else.
pub mod secrets;
pub mod sops;
