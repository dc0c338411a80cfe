//! Firewatch: incident and production-support ticketing in one binary.
//!
//! Layers: `domain` (pure rules), `db` (the only module that knows two backends exist),
//! `service` (one function per state change), `web` (routes, extractors, templates).

pub mod app;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
mod demo_history;
mod demo_loops;
mod demo_macros;
pub mod demo_mail;
mod demo_words;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod mailgate;
pub mod markdown;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod web;
