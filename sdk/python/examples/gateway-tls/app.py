"""The same rule as sdk/rust/examples/gateway-tls, in Python."""
from kridik import info, display, export_checks, Severity

GATEWAY = "networking.istio.io/Gateway"


def gateway_tls_info():
    return info("EXAMPLE-GW-001", "Gateway serves hosts without TLS", Severity.MEDIUM, "ingress", [GATEWAY],
                "A Gateway server on protocol HTTP that does not redirect to HTTPS serves its "
                "hosts in cleartext: credentials and session cookies cross the network unprotected.")


def run_gateway_tls(ctx):
    findings = []
    for o, body in ctx.parsed(GATEWAY, "Gateway TLS"):
        for i, server in enumerate((body.get("spec") or {}).get("servers") or []):
            port = server.get("port") or {}
            redirects = (server.get("tls") or {}).get("httpsRedirect") is True
            if str(port.get("protocol", "")).upper() != "HTTP" or redirects:
                continue
            findings.append(
                ctx.finding(Severity.MEDIUM, o.target, "Gateway serves hosts without TLS")
                .confidence(ctx.observed())
                .message(f"{display(o.target)} servers[{i}] serves {', '.join(server.get('hosts') or [])} "
                         f"on port {port.get('number', 0)} over plain HTTP.")
                .evidence(ctx.observed(), o.target, f"spec.servers[{i}].port.protocol is HTTP without tls.httpsRedirect")
                .remediation("Redirect plain HTTP to HTTPS on this server and serve the hosts on an HTTPS server.",
                             "    tls:\n      httpsRedirect: true\n"))
    return findings


Checks = export_checks((gateway_tls_info, run_gateway_tls))
