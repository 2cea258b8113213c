module kridik.dev/examples/gateway-tls

go 1.24

require kridik.dev/sdk v0.0.0

replace kridik.dev/sdk => ../..
