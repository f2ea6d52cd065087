import CorralProtocol

/// The nftables rules of bridge networking, written as `nft -f` input.
extension BridgeNetwork {
    /// Both tables, replaced in one transaction, with the live attachments' elements.
    ///
    /// `inet BRIDGE` (a table named after the bridge): node ports published by DNAT (`published`: node port -> task address . port) for traffic
    /// addressed to the node, from outside (prerouting) or from the node itself (output); tasks' traffic to
    /// other networks masqueraded, and hairpin traffic (a task reaching a published port of its own node)
    /// too; nothing from the bridge reaches the node's own services. `bridge BRIDGE`: between two tasks'
    /// veths (`ports`, this bridge's) only pairs in `peers` (tasks of one tenant) pass.
    func ruleset() -> String {
        let subnet = configuration.subnet
        let bridge = configuration.name
        let all = Array(attachments.values)
        var published: [String] = []
        var peers: [String] = []
        let devices = all.map { "\"\($0.device)\"" }
        for attachment in all {
            published += attachment.ports.map { "\($0.hostPort) : \(attachment.address) . \($0.to)" }
            peers += Self.peerPairs(of: attachment, among: all)
        }
        func elements(_ items: [String]) -> String {
            items.isEmpty ? "" : "elements = { \(items.joined(separator: ", ")) }"
        }
        return """
            table inet \(bridge) {}
            delete table inet \(bridge)
            table inet \(bridge) {
              map published { type inet_service : ipv4_addr . inet_service; \(elements(published)) }
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                fib daddr type local dnat ip to tcp dport map @published
              }
              chain output {
                type nat hook output priority -100; policy accept;
                fib daddr type local dnat ip to tcp dport map @published
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                ip saddr \(subnet) ip daddr != \(subnet) masquerade
                ct status dnat ip saddr \(subnet) ip daddr \(subnet) masquerade
              }
              chain input {
                type filter hook input priority filter; policy accept;
                iifname "\(bridge)" ct state established,related accept
                iifname "\(bridge)" drop
              }
            }
            table bridge \(bridge) {}
            delete table bridge \(bridge)
            table bridge \(bridge) {
              set ports { type ifname; \(elements(devices)) }
              set peers { type ifname . ifname; \(elements(peers)) }
              chain forward {
                type filter hook forward priority filter; policy accept;
                iifname . oifname @peers accept
                iifname @ports oifname @ports drop
              }
            }

            """
    }

    /// `add` or `delete` of one attachment's published ports and tenant pairs.
    func elements(of attachment: NetworkAttachment, verb: String) -> String {
        var lines: [String] = []
        let ports = attachment.ports.map { "\($0.hostPort) : \(attachment.address) . \($0.to)" }
        if !ports.isEmpty {
            // A deleted map element is named by its key alone.
            let items = verb == "delete" ? attachment.ports.map { "\($0.hostPort)" } : ports
            lines.append("\(verb) element inet \(configuration.name) published { \(items.joined(separator: ", ")) }")
        }
        lines.append("\(verb) element bridge \(configuration.name) ports { \"\(attachment.device)\" }")
        let pairs = Self.peerPairs(of: attachment, among: Array(attachments.values))
        if !pairs.isEmpty {
            lines.append("\(verb) element bridge \(configuration.name) peers { \(pairs.joined(separator: ", ")) }")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Both directions between the attachment's veth and each other veth of its tenant.
    static func peerPairs(of attachment: NetworkAttachment, among all: [NetworkAttachment]) -> [String] {
        all.filter { $0.tenant == attachment.tenant && $0.device != attachment.device }.flatMap {
            ["\"\(attachment.device)\" . \"\($0.device)\"", "\"\($0.device)\" . \"\(attachment.device)\""]
        }
    }
}
