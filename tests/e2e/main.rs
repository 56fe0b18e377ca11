//! The end-to-end suite, one test binary: each module is one area (tests/README.md says what
//! each proves). One binary links the product once instead of once per file, which was most
//! of a clean test build's time on a 2-core machine.
//!
//! `secrets_sweep` is ignored in the main run: `make test` runs it last, over everything the
//! rest of the suite wrote.
// Tests and their helpers panic on a broken fixture or an unmet expectation by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod answers;
mod audit_support;
mod common;
mod emulator_common;
mod http_common;
mod salesforce_support;

mod audit_cli;
mod audit_demo;
mod audit_exports;
mod audit_file_idp;
mod audit_html_chromium;
mod audit_mcp;
mod audit_mcp_demo;
mod audit_robustness;
mod audit_rules;
mod audit_salesforce_collector;
mod cli_call;
mod conformance;
mod contract;
mod emulator_auth;
mod emulator_composite;
mod emulator_control;
mod emulator_fixtures;
mod emulator_identity_seed;
mod emulator_injection_corpus;
mod emulator_paging;
mod emulator_paragon;
mod emulator_picklists;
mod emulator_search;
mod emulator_security;
mod emulator_signin;
mod emulator_signin_chromium;
mod faults;
mod hostile_input;
mod http_oauth;
mod http_planes;
mod http_replicas;
mod http_tenants;
mod idp_directories;
mod interop_jsforce;
mod interop_mcp_clients;
mod interop_simple_salesforce;
mod layering;
mod mcp_batch;
mod mcp_batch_upsert;
mod mcp_confirm;
mod mcp_files;
mod mcp_history;
mod mcp_history_lookups;
mod mcp_http;
mod mcp_protocol;
mod mcp_reports;
mod mcp_stdio;
mod mcp_tooling;
mod mcp_tools_list;
mod mcp_views_deleted;
mod mcp_writes;
mod policy;
mod salesforce_auth;
mod salesforce_client;
mod salesforce_no_delete;
mod salesforce_paragon;
mod scopes_identity;
mod secrets;
mod secrets_sweep;
mod soql_cli;
mod soql_corpus;
mod soql_eval;
mod soql_parser;
mod soql_proptest;
mod soql_validate;
mod toolsets;
