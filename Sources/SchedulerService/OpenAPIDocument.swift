/// The OpenAPI 3.1 document of the scheduler's API, served at `GET /v1/openapi.json`. A test checks that
/// it lists exactly the routes the router serves.
public enum OpenAPIDocument {
    /// Method and path template of every route, as the router registers them.
    public static let routes: [(method: String, path: String)] = [
        ("get", "/metrics"), ("get", "/v1/openapi.json"), ("get", "/v1/leader"), ("post", "/v1/jobs"),
        ("get", "/v1/jobs"),
        ("get", "/v1/jobs/{id}"), ("delete", "/v1/jobs/{id}"), ("post", "/v1/jobs/{id}/scale"),
        ("get", "/v1/jobs/{id}/tasks"), ("get", "/v1/jobs/{id}/runs"), ("post", "/v1/jobs/{id}/pause"),
        ("post", "/v1/jobs/{id}/resume"), ("get", "/v1/jobs/{id}/graph"), ("post", "/v1/workflows"),
        ("get", "/v1/nodes"),
        ("delete", "/v1/nodes/{node}"), ("post", "/v1/nodes/{node}/drain"), ("post", "/v1/nodes/{node}/undrain"),
        ("get", "/v1/alerts"),
        ("get", "/v1/tenants/{tenant}/quota"), ("get", "/v1/dead-letters"), ("post", "/v1/agents/register"),
        ("post", "/v1/agents/{node}/heartbeat"), ("get", "/v1/agents/{node}/allocations"),
        ("put", "/v1/agents/{node}/checkpoints/{allocation}"), ("get", "/v1/agents/{node}/checkpoints/{allocation}"),
        ("get", "/v1/allocations/{id}/logs/{stream}"), ("get", "/v1/allocations/{id}/fs"),
        ("get", "/v1/reports/capacity"), ("get", "/v1/history/{family}/{resolution}"), ("get", "/v1/checkpoints"),
        ("get", "/v1/checkpoints/{name}"),
    ]

    /// The methods the document lists for a concrete path (`/v1/jobs/j1` matches `/v1/jobs/{id}`), upper case.
    public static func methods(forPath path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.filter { route in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false)
            return template.count == segments.count
                && zip(template, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map { $0.method.uppercased() }
    }

    public static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {"title": "Corral scheduler", "version": "1"},
          "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
              "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                  "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}}}},
              "Resources": {"type": "object", "additionalProperties": false, "properties": {
                "cpu": {"type": ["number", "string"], "examples": [1.5, "500m"]},
                "memory": {"type": ["integer", "string"], "examples": ["512Mi"]},
                "ioReadBps": {"type": ["integer", "string", "null"]}, "ioWriteBps": {"type": ["integer", "string", "null"]},
                "pids": {"type": ["integer", "null"], "minimum": 2},
                "disk": {"type": ["integer", "string", "null"], "examples": ["1Gi"]}}},
              "JobSpec": {"type": "object", "required": ["name", "tenant", "command"], "additionalProperties": false,
                "properties": {
                  "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
                  "tenant": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,63}$"},
                  "priority": {"type": "integer", "minimum": 0, "maximum": 100},
                  "command": {"type": "array", "minItems": 1, "prefixItems": [{"type": "string", "minLength": 1}],
                    "items": {"type": "string"}},
                  "env": {"type": "object", "additionalProperties": {"type": "string"}},
                  "image": {"type": ["string", "null"]},
                  "resources": {"$ref": "#/components/schemas/Resources"},
                  "count": {"type": "integer", "minimum": 1, "maximum": 100000},
                  "timeout": {"type": ["string", "number", "null"], "examples": ["30s"]},
                  "retry": {"type": ["object", "null"], "properties": {"maxAttempts": {"type": "integer"},
                    "initialDelay": {"type": ["string", "number"]}, "maxDelay": {"type": ["string", "number"]},
                    "jitter": {"type": "number"}}},
                  "expectedDuration": {"type": ["string", "number", "null"]},
                  "constraints": {"type": "object", "additionalProperties": {"type": "string"}},
                  "network": {"type": ["object", "null"], "additionalProperties": false, "properties": {
                    "mode": {"enum": ["none", "host", "bridge"]},
                    "ports": {"type": ["array", "null"], "maxItems": 32, "items": {"type": "object",
                      "required": ["name", "to"], "additionalProperties": false, "properties": {
                        "name": {"type": "string", "pattern": "^[a-z0-9_]{1,32}$"},
                        "to": {"type": "integer", "minimum": 1, "maximum": 65535}}}}}},
                  "volumes": {"type": ["array", "null"], "maxItems": 16, "items": {"type": "object",
                    "required": ["name", "target"], "additionalProperties": false, "properties": {
                      "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,63}$"}, "target": {"type": "string"},
                      "readOnly": {"type": "boolean"}}}},
                  "type": {"enum": ["batch", "service"]},
                  "restart": {"type": ["object", "null"], "additionalProperties": false, "properties": {
                    "attempts": {"type": "integer", "minimum": 0, "maximum": 1000}, "interval": {"type": ["string", "number"]},
                    "delay": {"type": ["string", "number"]}, "mode": {"enum": ["fail", "delay"]}}},
                  "checks": {"type": ["array", "null"], "maxItems": 8, "items": {"type": "object", "required": ["type"],
                    "additionalProperties": false, "properties": {"type": {"enum": ["http", "tcp", "exec"]},
                      "port": {"type": "string"}, "path": {"type": "string"}, "command": {"type": "array", "items": {"type": "string"}},
                      "interval": {"type": ["string", "number"]}, "timeout": {"type": ["string", "number"]},
                      "unhealthyAfter": {"type": "integer", "minimum": 1, "maximum": 100},
                      "grace": {"type": ["string", "number"]}}}},
                  "schedule": {"type": ["object", "null"], "required": ["cron"], "additionalProperties": false,
                    "properties": {"cron": {"type": "string", "examples": ["*/5 * * * *", "@hourly"]},
                      "timeZone": {"type": "string", "examples": ["Europe/Berlin"]},
                      "overlap": {"enum": ["allow", "forbid", "replace"]}, "catchUp": {"enum": ["none", "one"]},
                      "startingDeadline": {"type": ["string", "number", "null"]},
                      "keepRuns": {"type": "integer", "minimum": 1, "maximum": 1000}}},
                  "placement": {"type": ["object", "null"], "additionalProperties": false,
                    "properties": {"mode": {"enum": ["any", "each-node"]}}},
                  "checkpointInterval": {"type": ["string", "number", "null"], "examples": ["5s"]},
                  "checkpointLimit": {"type": ["string", "number", "null"], "examples": ["64Mi"]},
                  "reclaimable": {"type": ["boolean", "null"]},
                  "dependsOn": {"type": ["array", "null"], "maxItems": 32, "items": {"type": "object", "required": ["job"],
                    "additionalProperties": false, "properties": {"job": {"type": "string"},
                      "on": {"enum": ["success", "failure", "any"]}}}}}},
              "Job": {"type": "object", "required": ["id", "name", "tenant", "priority", "state", "submittedAt", "tasks", "spec"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "tenant": {"type": "string"},
                  "priority": {"type": "integer"},
                  "state": {"enum": ["pending", "scheduled", "running", "completed", "failed", "cancelling", "cancelled",
                    "active", "paused", "skipped"]},
                  "submittedAt": {"type": "number"}, "tasks": {"type": "object", "additionalProperties": {"type": "integer"}},
                  "waitingFor": {"type": "string"}, "spec": {"type": "object"},
                  "schedule": {"type": "object", "properties": {"nextFire": {"type": "integer"},
                    "lastFire": {"type": "integer"}, "paused": {"type": "boolean"}, "fired": {"type": "integer"},
                    "skipped": {"type": "integer"}, "missed": {"type": "integer"}, "lastSkip": {"type": "string"},
                    "active": {"type": "array", "items": {"type": "string"}}}},
                  "scheduledBy": {"type": "string"}, "fire": {"type": "integer"}, "skipped": {"type": "string"}}},
              "Task": {"type": "object", "required": ["job", "index", "state", "attempt"], "properties": {
                "job": {"type": "string"}, "index": {"type": "integer"},
                "state": {"enum": ["pending", "scheduled", "running", "completed", "failed", "killed", "lost"]},
                "attempt": {"type": "integer"}, "node": {"type": "string"}, "allocation": {"type": "string"},
                "exitCode": {"type": "integer"}, "lastError": {"type": "string"}, "retryAt": {"type": "number"},
                "startedAt": {"type": "number"}, "usage": {"type": "object"}, "outcome": {"type": "object"},
                "health": {"type": "object", "properties": {"status": {"enum": ["unknown", "healthy", "unhealthy"]},
                  "output": {"type": "string"}, "checkedAt": {"type": "number"}, "restarts": {"type": "integer"}}},
                "network": {"type": "object", "properties": {"mode": {"enum": ["none", "host", "bridge"]},
                  "address": {"type": "string"}, "ports": {"type": "array", "items": {"type": "object",
                    "required": ["name", "to", "hostPort", "address"]}}}}}},
              "ResourceVector": {"type": "object", "required": ["cpuMillis", "memory", "ioRead", "ioWrite", "pids"],
                "properties": {"cpuMillis": {"type": "integer"}, "memory": {"type": "integer"}, "ioRead": {"type": "integer"},
                  "ioWrite": {"type": "integer"}, "pids": {"type": "integer"}}},
              "NodeLoad": {"type": "object", "required": ["cpu", "memory", "io"], "properties": {
                "cpu": {"type": "number"}, "memory": {"type": "number"}, "io": {"type": "number"}}},
              "Node": {"type": "object", "required": ["id", "ready", "lastSeen", "capacity", "reserved", "running", "labels", "usage", "info"],
                "properties": {"id": {"type": "string"}, "ready": {"type": "boolean"}, "lastSeen": {"type": "number"},
                  "capacity": {"$ref": "#/components/schemas/ResourceVector"},
                  "reserved": {"$ref": "#/components/schemas/ResourceVector"}, "running": {"type": "integer"},
                  "labels": {"type": "object"}, "usage": {"$ref": "#/components/schemas/NodeLoad"},
                  "address": {"type": ["string", "null"]}, "info": {"type": "object"},
                  "conditions": {"type": ["array", "null"], "items": {"enum": ["draining", "drained", "disk-full", "breaker-open", "breaker-half-open", "breaker-probing"]}},
                  "breaker": {"enum": ["closed", "open", "half-open", "probing", null]}, "breakerReason": {"type": ["string", "null"]},
                  "breakerTrips": {"type": ["integer", "null"]},
                  "drain": {"type": ["object", "null"], "required": ["since"], "properties": {"since": {"type": "number"}, "deadline": {"type": ["number", "null"]}}},
                  "drained": {"type": ["boolean", "null"]}}},
              "Alert": {"type": "object", "required": ["id", "status", "rule", "kind", "subject", "summary", "startsAt", "sentAt", "resends"],
                "properties": {"id": {"type": "string"}, "status": {"enum": ["firing", "resolved"]}, "rule": {"type": "string"},
                  "kind": {"enum": ["dead-letter", "oom-killed", "node-down", "node-tripped", "tenant-quota", "capacity", "load-anomaly"]},
                  "subject": {"type": "string"}, "summary": {"type": "string"}, "startsAt": {"type": "number"},
                  "endsAt": {"type": ["number", "null"]}, "sentAt": {"type": "number"}, "resends": {"type": "integer"}}},
              "Quota": {"type": "object", "required": ["tenant", "usage"], "properties": {"tenant": {"type": "string"},
                "quota": {"type": "object"}, "usage": {"type": "object"}, "reclaimable": {"type": "object"}}},
              "Registration": {"type": "object", "required": ["node", "capacity"], "properties": {
                "node": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,63}$"},
                "capacity": {"type": "object", "required": ["cpuMillis", "memory", "ioRead", "ioWrite", "pids"],
                  "properties": {"cpuMillis": {"type": "integer", "minimum": 1}, "memory": {"type": "integer", "minimum": 1},
                    "ioRead": {"type": "integer", "minimum": 0}, "ioWrite": {"type": "integer", "minimum": 0},
                    "pids": {"type": "integer", "minimum": 0}}},
                "labels": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
                "weight": {"type": ["number", "null"], "exclusiveMinimum": 0},
                "address": {"type": ["string", "null"], "description": "where the agent serves logs: http://HOST:PORT"},
                "info": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}}},
              "Heartbeat": {"type": "object", "required": ["usage", "allocations"], "properties": {
                "usage": {"$ref": "#/components/schemas/NodeLoad"},
                "allocations": {"type": "array", "items": {"type": "object", "required": ["id", "state"], "properties": {
                  "id": {"type": "string"}, "state": {"enum": ["running", "exited", "failed", "killed", "unknown"]},
                  "exitCode": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]},
                  "usage": {"type": ["object", "null"]}, "outcome": {"type": ["object", "null"]},
                  "network": {"type": ["object", "null"]}, "health": {"type": ["object", "null"]}}}},
                "running": {"type": ["array", "null"], "items": {"type": "string"},
                  "description": "ids of allocations still running with nothing new to report"},
                "diskFull": {"type": ["boolean", "null"], "description": "the agent cannot write its records: place nothing here"}}},
              "Orders": {"type": "object", "required": ["allocations", "kills", "heartbeatIntervalSeconds"], "properties": {
                "allocations": {"type": "array", "items": {"type": "object"}}, "kills": {"type": "array", "items": {"type": "string"}},
                "heartbeatIntervalSeconds": {"type": "number"},
                "credential": {"type": ["string", "null"], "description": "the node's credential, in the answer to a registration with the bootstrap token only"},
                "relayToken": {"type": ["string", "null"], "description": "what the scheduler presents when it fetches this node's logs"}}},
              "NodeForgotten": {"type": "object", "required": ["node", "requeued"], "properties": {
                "node": {"type": "string"}, "requeued": {"type": "integer"}}}
            },
            "responses": {
              "Error": {"description": "An error with a stable code", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
          },
          "security": [{"bearer": []}],
          "paths": {
            "/metrics": {"get": {"description": "Admin or metrics token, unless the configuration says metricsPublic",
              "responses": {"200": {"description": "Prometheus text", "content": {"text/plain": {}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/v1/openapi.json": {"get": {"security": [], "responses": {"200": {"description": "This document", "content": {"application/json": {}}}}}},
            "/v1/checkpoints": {
              "get": {"security": [], "summary": "Every checkpoint this scheduler keeps, for another scheduler's copy (Corral-Peer header)",
                "responses": {"200": {"description": "The checkpoints", "content": {"application/json": {"schema": {"type": "array",
                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "bytes": {"type": "integer"}, "modified": {"type": "number"}}}}}}},
                  "403": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/checkpoints/{name}": {
              "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"security": [], "summary": "One checkpoint, for another scheduler's copy (Corral-Peer header)",
                "responses": {"200": {"description": "The archive", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/history/{family}/{resolution}": {"get": {"security": [], "description": "For the cluster's other schedulers (header Corral-Peer): one page of the downsampled usage history, rows after (after, key) in (time, key) order. family: usage, tenant or job; resolution: minute or hour (job: minute).",
              "parameters": [{"name": "family", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "resolution", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "after", "in": "query", "schema": {"type": "number"}}, {"name": "key", "in": "query", "schema": {"type": "string"}}],
              "responses": {"200": {"description": "Rows", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "time": {"type": "number"}, "n": {"type": "integer"}, "values": {"type": "array", "items": {"type": "number"}}}}}}}},
                "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
            "/v1/leader": {"get": {"security": [], "description": "Any scheduler, leader or not: its role (standalone, leader, follower, candidate), the leader's address and its own. Every other route of a follower answers 307 to the leader (header Corral-Leader), of a candidate 503 no_leader.",
              "responses": {"200": {"description": "The role", "content": {"application/json": {"schema": {"type": "object", "properties": {"role": {"type": "string"}, "leader": {"type": "string"}, "address": {"type": "string"}}}}}}}}},
            "/v1/jobs": {
              "post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSpec"}}}},
                "responses": {"201": {"description": "Acknowledged: durable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}},
              "get": {"responses": {"200": {"description": "Jobs the caller may see", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
              "delete": {"responses": {"200": {"description": "Cancelled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/scale": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Change a service job's count",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1, "maximum": 100000}}}}}},
                "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/tasks": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"responses": {"200": {"description": "The job's tasks", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/runs": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"summary": "A schedule's runs, oldest fire first",
                "responses": {"200": {"description": "The runs", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/graph": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"summary": "The jobs connected to this one by dependsOn edges, and the edges",
                "responses": {"200": {"description": "The graph", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["jobs", "edges"], "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
                  "edges": {"type": "array", "items": {"type": "object", "required": ["from", "to", "on"], "properties": {
                    "from": {"type": "string"}, "to": {"type": "string"}, "on": {"enum": ["success", "failure", "any"]}}}}}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/workflows": {
              "post": {"summary": "Submit several jobs with edges between them, atomically",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["jobs"],
                  "additionalProperties": false, "properties": {"jobs": {"type": "array", "minItems": 1, "maxItems": 100,
                    "items": {"$ref": "#/components/schemas/JobSpec"}}, "name": {"type": "string"},
                    "schedule": {"type": ["object", "null"]}}}}}},
                "responses": {"201": {"description": "Acknowledged: durable", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["jobs"], "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/pause": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Pause a schedule: it fires no more until resumed",
                "responses": {"200": {"description": "The schedule", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/jobs/{id}/resume": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Resume a paused schedule from its next fire time after now",
                "responses": {"200": {"description": "The schedule", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/nodes": {"get": {"responses": {"200": {"description": "Nodes", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}},
              "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/v1/nodes/{node}": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}}],
              "delete": {"summary": "Forget a node (admin): its credential is void, its tasks are placed again",
                "responses": {"200": {"description": "Forgotten", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NodeForgotten"}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/nodes/{node}/drain": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Drain a node (admin): no new work; at the deadline its tasks are placed again without using an attempt",
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object",
                  "properties": {"deadlineSeconds": {"type": ["number", "null"], "minimum": 0, "maximum": 31536000,
                    "description": "Seconds until what is left is evicted; null or absent waits for the tasks to end"}}}}}},
                "responses": {"200": {"description": "The node", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/nodes/{node}/undrain": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "End a node's drain (admin): it takes work again",
                "responses": {"200": {"description": "The node", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/alerts": {"get": {"summary": "The alerts firing now (admin), oldest first",
              "responses": {"200": {"description": "Alerts", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/v1/tenants/{tenant}/quota": {
              "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"type": "string"}}],
              "get": {"responses": {"200": {"description": "Quota and use", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Quota"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/dead-letters": {"get": {"responses": {"200": {"description": "Tasks out of attempts, with their last error", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}}},
              "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/v1/reports/capacity": {"get": {"summary": "Capacity-planning report (admin): usage history, forecasts, saturation dates, headroom, stranded capacity, right-sizing, tenants",
              "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "default": "14d"}, "description": "History to read, a duration like 14d or 12h"},
                {"name": "horizon", "in": "query", "schema": {"type": "string", "default": "7d"}, "description": "How far to forecast"},
                {"name": "format", "in": "query", "schema": {"enum": ["json", "html", "md"], "default": "json"}},
                {"name": "shape", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true, "description": "Task shapes CPU,MEMORY to count headroom in, like 1,2GiB"}],
              "responses": {"200": {"description": "The report; JSON follows docs/capacity-report.schema.json", "content": {"application/json": {"schema": {"type": "object", "required": ["schemaVersion", "findings", "cluster", "nodes", "headroom", "tenants"]}},
                "text/html": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/v1/agents/register": {"post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Registration"}}}},
              "responses": {"200": {"description": "Orders", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Orders"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                "413": {"$ref": "#/components/responses/Error"}}}},
            "/v1/agents/{node}/heartbeat": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Heartbeat"}}}},
                "responses": {"200": {"description": "Orders", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Orders"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/agents/{node}/allocations": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "wait", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 60}}],
              "get": {"responses": {"200": {"description": "Orders (long-poll)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Orders"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/agents/{node}/checkpoints/{allocation}": {
              "parameters": [{"name": "node", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "allocation", "in": "path", "required": true, "schema": {"type": "string"}}],
              "put": {"summary": "An agent hands over a snapshot of a task's checkpoint directory",
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"204": {"description": "Kept as the task's latest checkpoint"},
                  "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "507": {"$ref": "#/components/responses/Error"}}},
              "get": {"summary": "The task's latest checkpoint, for the agent of its next attempt",
                "responses": {"200": {"description": "The archive", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/allocations/{id}/logs/{stream}": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "stream", "in": "path", "required": true, "schema": {"enum": ["stdout", "stderr"]}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
              "get": {"summary": "A task's output from offset on, relayed from its agent",
                "responses": {"200": {"description": "Bytes; headers Corral-Log-Offset (ask for it next) and Corral-Log-Running",
                  "headers": {"Corral-Log-Offset": {"schema": {"type": "integer"}}, "Corral-Log-Running": {"schema": {"enum": ["true", "false"]}}},
                  "content": {"application/octet-stream": {}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                "502": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/allocations/{id}/fs": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "path", "in": "query", "schema": {"type": "string"}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
              "get": {"summary": "A directory listing (JSON) or a file's bytes from a task's work directory, relayed from its agent",
                "responses": {"200": {"description": "A listing, or bytes with headers Corral-File-Size and Corral-File-Offset",
                  "content": {"application/json": {}, "application/octet-stream": {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                "502": {"$ref": "#/components/responses/Error"}}}
            }
          }
        }
        """#
}
