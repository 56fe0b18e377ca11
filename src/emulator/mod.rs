//! A local Salesforce org: REST API, OAuth, Paragon proxy and IdP directory APIs over an
//! in-memory store, with SOQL evaluated by [`crate::soql`].
