#!/bin/sh
# LocalStack runs this once it answers. The embedded cloud's bootstrap also creates the data bucket, the state
# machine and the archive; here `npm run deploy:localstack` does all three, so nothing is left but to say so.
echo "CalMS: LocalStack is ready on port 4566. Deploy with: npm run deploy:localstack"
