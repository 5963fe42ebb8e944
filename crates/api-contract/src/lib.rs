//! No code: the checks are the integration tests in `tests/` (`openapi.rs`, the documents'
//! structure; `schemathesis.rs`, each service fuzzed against its own document). See the
//! "documents are the contract" convention in `docs/api.md`.
