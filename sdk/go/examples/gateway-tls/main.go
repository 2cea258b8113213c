// The same rule as sdk/rust/examples/gateway-tls, in Go: Istio Gateway servers
// that serve hosts over plain HTTP without redirecting to HTTPS.
package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"kridik.dev/sdk/kridik"
)

const gateway = "networking.istio.io/Gateway"

type gatewaySpec struct {
	Spec struct {
		Servers []struct {
			Port struct {
				Number   uint32 `json:"number"`
				Protocol string `json:"protocol"`
			} `json:"port"`
			Hosts []string `json:"hosts"`
			TLS   *struct {
				HTTPSRedirect bool `json:"httpsRedirect"`
			} `json:"tls"`
		} `json:"servers"`
	} `json:"spec"`
}

func info() kridik.CheckInfo {
	return kridik.CheckInfo{
		ID:              "EXAMPLE-GW-001",
		Title:           "Gateway serves hosts without TLS",
		Description:     "A Gateway server on protocol HTTP that does not redirect to HTTPS serves its hosts in cleartext: credentials and session cookies cross the network unprotected.",
		DefaultSeverity: kridik.Medium,
		Category:        "ingress",
		Kinds:           []string{gateway},
	}
}

func run(ctx *kridik.Ctx) ([]*kridik.Finding, error) {
	objects, unknown := ctx.Parsed(gateway, "Gateway TLS")
	if unknown != nil {
		return []*kridik.Finding{unknown}, nil
	}
	fix := "    tls:\n      httpsRedirect: true\n"
	var findings []*kridik.Finding
	for _, o := range objects {
		var gw gatewaySpec
		if json.Unmarshal([]byte(o.JSON), &gw) != nil {
			continue
		}
		for i, s := range gw.Spec.Servers {
			redirects := s.TLS != nil && s.TLS.HTTPSRedirect
			if !strings.EqualFold(s.Port.Protocol, "HTTP") || redirects {
				continue
			}
			target := o.Target
			findings = append(findings, ctx.Finding(kridik.Medium, o.Target, "Gateway serves hosts without TLS").
				WithConfidence(ctx.Observed()).
				WithMessage("%s servers[%d] serves %s on port %d over plain HTTP.", o.Target.Display(), i, strings.Join(s.Hosts, ", "), s.Port.Number).
				WithEvidence(ctx.Observed(), &target, fmt.Sprintf("spec.servers[%d].port.protocol is HTTP without tls.httpsRedirect", i)).
				WithRemediation("Redirect plain HTTP to HTTPS on this server and serve the hosts on an HTTPS server.", &fix))
		}
	}
	return findings, nil
}

func init() { kridik.Register(kridik.Check{Info: info, Run: run}) }

func main() {}
