import type { Workflow } from '../../../lib/workflow/Workflow';
import { Failures } from './failures';

export const FAKE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-test';

/** What Step Functions accepts as an execution name: 1 to 80 characters, none of whitespace, brackets, wildcards or `"#%\^|~`$&,;:/`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: Step Functions refuses control characters in a name, as this pattern does.
export const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/**
 * A `Workflow` that records started executions. Like Step Functions, starting an existing name with the same
 * input returns the same execution, with other input it fails, and a name Step Functions would refuse fails.
 */
export class RecordingWorkflow implements Workflow {
  readonly started: { readonly name: string; readonly input: unknown; readonly executionArn: string }[] = [];
  readonly failures = new Failures<'start'>();

  async start(name: string, input: unknown): Promise<{ executionArn: string }> {
    this.failures.check('start');
    if (!EXECUTION_NAME.test(name)) throw new Error(`ValidationException: invalid execution name ${name}`);
    const executionArn = `${FAKE_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    const earlier = this.started.find((execution) => execution.name === name);
    if (earlier) {
      if (JSON.stringify(earlier.input) !== JSON.stringify(input)) throw new Error(`ExecutionAlreadyExists: ${name}`);
      return { executionArn };
    }
    this.started.push({ name, input, executionArn });
    return { executionArn };
  }
}
