//! Resources: `salesforce://objects` (the objects the user can see) and the template
//! `salesforce://objects/{name}` (an object's compact describe), with completion of object
//! names. Clients that browse resources get the schema without spending tool calls.

use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, ListResourceTemplatesResult,
    ListResourcesResult, ReadResourceResult, Reference, Resource, ResourceContents,
    ResourceTemplate,
};
use rmcp::service::RequestContext;

use super::describe_view;
use super::error::ToolError;
use super::server::SfServer;
use super::tools::objects::is_api_name;

const OBJECTS_URI: &str = "salesforce://objects";
const OBJECT_PREFIX: &str = "salesforce://objects/";
/// The protocol caps one completion answer at 100 values.
const MAX_COMPLETIONS: usize = 100;

impl SfServer {
    pub(crate) fn resource_list() -> ListResourcesResult {
        ListResourcesResult::with_all_items(vec![
            Resource::new(OBJECTS_URI, "objects")
                .with_description("Objects the connected user can see, with access flags")
                .with_mime_type("text/plain"),
        ])
    }

    pub(crate) fn resource_templates() -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{OBJECT_PREFIX}{{name}}"), "object")
                .with_description("Compact describe of one object")
                .with_mime_type("text/plain"),
        ])
    }

    pub(crate) async fn read(
        &self,
        uri: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<ReadResourceResult, McpError> {
        let text = if uri == OBJECTS_URI {
            self.objects_text(context).await
        } else if let Some(name) = uri.strip_prefix(OBJECT_PREFIX).filter(|n| is_api_name(n)) {
            self.describe_text(name, context).await
        } else {
            return Err(McpError::resource_not_found(
                format!("no resource {uri}: try {OBJECTS_URI} or {OBJECT_PREFIX}Account"),
                None,
            ));
        };
        // A Salesforce failure is content the reader should see, not a protocol fault.
        let text = text.unwrap_or_else(|e| e.message());
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type("text/plain"),
        ]))
    }

    async fn objects_text(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        let client = self.client(context)?;
        let global = client.objects().await?;
        let mut text = String::new();
        for object in global
            .sobjects
            .iter()
            .filter(|o| self.policy().check_object(&o.name).is_ok())
        {
            text.push_str(&format!("{} [{}]\n", object.name, object.label));
        }
        Ok(text)
    }

    async fn describe_text(
        &self,
        name: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        let client = self.client(context)?;
        let name = self.known_object(&client, name).await?;
        let schema = client.describe(&name).await?;
        Ok(describe_view::render(
            &self.without_denied_fields(&schema),
            None,
        ))
    }

    /// Object names for the template's `{name}` (prefix match, case-insensitive).
    pub(crate) async fn completions(
        &self,
        request: &CompleteRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let wants_objects = match &request.r#ref {
            Reference::Resource(resource) => resource.uri.starts_with(OBJECT_PREFIX),
            _ => false,
        };
        if !wants_objects {
            return Ok(CompleteResult::default());
        }
        let prefix = request.argument.value.to_ascii_lowercase();
        let names: Vec<String> = match self.client(context) {
            Ok(client) => match client.objects().await {
                Ok(global) => global
                    .sobjects
                    .iter()
                    .filter(|o| o.name.to_ascii_lowercase().starts_with(&prefix))
                    .filter(|o| self.policy().check_object(&o.name).is_ok())
                    .map(|o| o.name.clone())
                    .collect(),
                Err(_) => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        let total = names.len();
        let shown: Vec<String> = names.into_iter().take(MAX_COMPLETIONS).collect();
        let info =
            CompletionInfo::with_pagination(shown, Some(total as u32), total > MAX_COMPLETIONS)
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(CompleteResult::new(info))
    }
}
