//! Each service's published document, read as a client would: parameters where the routes
//! take them (path parameters exactly the path's, everything else in the query), the error
//! answers every operation can give declared on it, and numbers typed as they are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use chat_testkit::{Service, Stack};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn documents() -> Vec<(&'static str, Value)> {
    let stack = Stack::builder(Service::Messages).start().await;
    let mut documents = Vec::new();
    for (name, base) in [
        ("user-service", &stack.users),
        ("friends-service", &stack.friends),
        ("message-service", &stack.messages),
    ] {
        let document = stack
            .client
            .get(format!("{base}/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        documents.push((name, document));
    }
    documents
}

/// The `{names}` of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

/// `$ref`s resolved against the document (parameters and schemas may be references).
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(document, document.pointer(pointer).unwrap())
        }
        None => value,
    }
}

#[tokio::test]
async fn parameters_and_error_answers_are_declared_where_they_happen() {
    let mut problems = Vec::new();
    let mut operations = 0;
    for (service, document) in documents().await {
        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
        for (path, item) in document["paths"].as_object().unwrap() {
            let template = template_names(path);
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                operations += 1;
                let label = format!("{service}: {} {path}", method.to_uppercase());
                let parameters: Vec<&Value> = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|parameter| resolve(&document, parameter))
                    .collect();
                let mut in_path = BTreeSet::new();
                for parameter in &parameters {
                    let name = parameter["name"].as_str().unwrap().to_owned();
                    match parameter["in"].as_str().unwrap() {
                        "path" => {
                            if parameter["required"] != Value::Bool(true) {
                                problems.push(format!("{label}: path parameter {name} optional"));
                            }
                            in_path.insert(name);
                        }
                        "query" | "header" | "cookie" => {
                            if template.contains(&name) {
                                problems.push(format!("{label}: {name} is a path parameter"));
                            }
                        }
                        other => problems.push(format!("{label}: {name} in {other}")),
                    }
                }
                if in_path != template {
                    problems.push(format!(
                        "{label}: path parameters {in_path:?}, the path has {template:?}"
                    ));
                }
                let responses = operation["responses"].as_object().unwrap();
                let mut expected = vec!["408", "503"];
                if operation.get("requestBody").is_some() {
                    expected.extend(["400", "413", "415", "422"]);
                }
                if !parameters.is_empty() {
                    expected.push("400");
                }
                let secured = operation["security"].as_array().is_some_and(|schemes| {
                    schemes.iter().any(|scheme| scheme.get("bearer").is_some())
                });
                if secured {
                    expected.push("401");
                }
                for status in expected {
                    if !responses.contains_key(status) {
                        problems.push(format!("{label}: no {status} response"));
                    }
                }
            }
        }
    }
    assert!(operations > 40, "only {operations} operations documented");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
