import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TerminalError, WorkflowUnavailableError } from '../errors';
import { isTransientAwsError } from '../aws/errors';
import type { Workflow } from './Workflow';

export class SfnWorkflow implements Workflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: unknown): Promise<{ executionArn: string }> {
    try {
      const started = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { executionArn: started.executionArn! };
    } catch (error) {
      // Step Functions itself answers a repeated start with equal input; ExecutionAlreadyExists means other input.
      if (isTransientAwsError(error) || !(error instanceof Error) || !('$metadata' in error)) {
        throw new WorkflowUnavailableError(`Step Functions did not start ${name}: ${(error as Error).message}`, { cause: error });
      }
      throw new TerminalError(`Step Functions refused to start ${name}: ${error.name}: ${error.message}`, { cause: error });
    }
  }
}
