import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type IntakeDeps, submitRequest } from '../intake/submitRequest';
import { json, MAX_REQUEST_BODY_BYTES, parseJsonBody } from './http';

/** `POST /requests`: one helpdesk ticket's request from ARC staff. */
export function makeSubmitRequestHandler(deps: IntakeDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const body = parseJsonBody(event.body, event.isBase64Encoded);
    if (!body.ok && body.bytes !== undefined) {
      return json(413, {
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          field: 'body',
          message: `the request body must be at most ${MAX_REQUEST_BODY_BYTES / 1024} KiB, got ${body.bytes} bytes`,
        },
      });
    }
    if (!body.ok) {
      return json(400, { error: { code: 'VALIDATION_ERROR', field: 'body', message: 'the request body must be JSON' } });
    }
    const response = await submitRequest(deps, body.value);
    return json(response.status, response.body);
  };
}
