// Bento (github.com/warpstreamlabs/bento, MIT) with only the components ferry's benchmark uses:
// the peer that reads the same topic into DynamoDB (scripts/bench/bench.ts, latency-5ms).
package main

import (
	"context"

	"github.com/warpstreamlabs/bento/public/service"

	_ "github.com/warpstreamlabs/bento/public/components/aws"
	_ "github.com/warpstreamlabs/bento/public/components/kafka"
	_ "github.com/warpstreamlabs/bento/public/components/pure"
)

func main() {
	service.RunCLI(context.Background(), service.CLIOptSetVersion("v1.20.0", ""), service.CLIOptSetBinaryName("bento"))
}
