module kridik.dev/sdk

go 1.24
