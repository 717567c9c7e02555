import { ArchiveUnavailableError, MailRejectedError } from '../../../lib/errors';
import { errorFromLambdaPayload } from '../../../localstack/stepfunctions/lambdaInvoker';

/** The payload serverless-offline answers when a handler throws `error` (InvocationsController.js). */
function serverlessOfflinePayload(error: Error) {
  return { errorMessage: error.message, errorType: 'Error', trace: error.stack?.split('\n') };
}

describe('errorFromLambdaPayload', () => {
  test('recovers a CalMS error name that serverless-offline reports as "Error"', () => {
    // Prepare
    const payload = serverlessOfflinePayload(new ArchiveUnavailableError('archive database refused the connection'));

    // Act
    const error = errorFromLambdaPayload(payload);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ArchiveUnavailableError');
    expect(error.message).toBe('archive database refused the connection');
    expect(error.stack).toBe(payload.trace?.join('\n'));
  });

  test('recovers the name when the message has several lines', () => {
    // Prepare
    const payload = serverlessOfflinePayload(new MailRejectedError('550 mailbox unavailable\nfor aog@alma.local'));

    // Act
    const error = errorFromLambdaPayload(payload);

    // Assess
    expect(error.name).toBe('MailRejectedError');
    expect(error.message).toBe('550 mailbox unavailable\nfor aog@alma.local');
  });

  test('recovers the name when the message is empty', () => {
    // Act
    const error = errorFromLambdaPayload(serverlessOfflinePayload(new ArchiveUnavailableError()));

    // Assess
    expect(error.name).toBe('ArchiveUnavailableError');
  });

  test('keeps "Error" for a plain Error', () => {
    // Act
    const error = errorFromLambdaPayload(serverlessOfflinePayload(new Error('boom')));

    // Assess
    expect(error.name).toBe('Error');
  });

  test('falls back to errorType when the trace does not start with the message', () => {
    // Prepare
    const payload = {
      errorMessage: 'changed after the stack was taken',
      errorType: 'Error',
      trace: ['ArchiveUnavailableError: original', '    at x'],
    };

    // Act
    const error = errorFromLambdaPayload(payload);

    // Assess
    expect(error.name).toBe('Error');
  });

  test('trusts a specific errorType, as AWS sends with stackTrace', () => {
    // Prepare
    const payload = { errorMessage: 'relay said 421', errorType: 'MailUnavailableError', stackTrace: ['Error: relay said 421'] };

    // Act
    const error = errorFromLambdaPayload(payload);

    // Assess
    expect(error.name).toBe('MailUnavailableError');
    expect(error.message).toBe('relay said 421');
  });

  test('names a payload without an error message Lambda.Unknown', () => {
    // Act
    const error = errorFromLambdaPayload('Process exited before completing request');

    // Assess
    expect(error.name).toBe('Lambda.Unknown');
    expect(error.message).toContain('Process exited before completing request');
  });
});
