//! Checks of the repository itself rather than of a service: its tests (`tests/deploy.rs`)
//! validate the deployment files at the repository root. The library is empty.
