import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type IntakeDeps, submitRequest } from '../intake/submitRequest';
import { json, parseJsonBody } from './http';

/** `POST /requests`: one helpdesk ticket's request from ARC staff. */
export function makeSubmitRequestHandler(deps: IntakeDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const body = parseJsonBody(event.body, event.isBase64Encoded);
    if (!body.ok) {
      return json(400, { error: { code: 'VALIDATION_ERROR', field: 'body', message: 'the request body must be JSON' } });
    }
    const response = await submitRequest(deps, body.value);
    return json(response.status, response.body);
  };
}
