// The same rule as sdk/rust/examples/gateway-tls, in JavaScript: Istio Gateway
// servers that serve hosts over plain HTTP without redirecting to HTTPS.
// Build: node sdk/js/build.mjs sdk/js/examples/gateway-tls.js gateway-tls.wasm
import { info, display, exportChecks } from '../kridik.js';

const GATEWAY = 'networking.istio.io/Gateway';

function gatewayTlsInfo() {
  return info(
    'EXAMPLE-GW-001',
    'Gateway serves hosts without TLS',
    'medium',
    'ingress',
    [GATEWAY],
    'A Gateway server on protocol HTTP that does not redirect to HTTPS serves its ' +
      'hosts in cleartext: credentials and session cookies cross the network unprotected.',
  );
}

function runGatewayTls(ctx) {
  const gateways = ctx.parsed(GATEWAY, 'Gateway TLS');
  if (gateways.unknown) return [gateways.unknown];
  const findings = [];
  for (const { object: o, body } of gateways.items) {
    (body.spec?.servers ?? []).forEach((server, i) => {
      const redirects = server.tls?.httpsRedirect === true;
      if ((server.port?.protocol ?? '').toUpperCase() !== 'HTTP' || redirects) return;
      findings.push(
        ctx
          .finding('medium', o.target, 'Gateway serves hosts without TLS')
          .confidence(ctx.observed())
          .message(
            `${display(o.target)} servers[${i}] serves ${(server.hosts ?? []).join(', ')} ` +
              `on port ${server.port?.number ?? 0} over plain HTTP.`,
          )
          .evidence(ctx.observed(), o.target, `spec.servers[${i}].port.protocol is HTTP without tls.httpsRedirect`)
          .remediation(
            'Redirect plain HTTP to HTTPS on this server and serve the hosts on an HTTPS server.',
            '    tls:\n      httpsRedirect: true\n',
          ),
      );
    });
  }
  return findings;
}

export const checks = exportChecks([{ info: gatewayTlsInfo, run: runGatewayTls }]);
