import Foundation
import SchedulerService
import Testing

@testable import CorralModel

/// The OpenAPI document's job spec names every field the spec reader accepts, and no other: a field
/// added to jobs without its schema (the schema forbids unknown properties) is caught here.
@Suite struct OpenAPISchemaTests {
    @Test func theJobSpecSchemaHasExactlyTheReadersFields() throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let spec = try #require(schemas["JobSpec"] as? [String: Any])
        let properties = try #require(spec["properties"] as? [String: Any])
        #expect(
            Set(properties.keys) == FieldReader.jobFields,
            "\(Set(properties.keys).symmetricDifference(FieldReader.jobFields))")
        let resources = try #require((schemas["Resources"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(Set(resources.keys) == FieldReader.resourceFields)
    }
}
