import { ConfigurationError } from '../../../lib/config';
import { parseSmtpCredentials } from '../../../lib/mail/SmtpMailer';

describe('parseSmtpCredentials', () => {
  test('reads the login from the JSON the secret holds', () => {
    // Act
    const login = parseSmtpCredentials('{"username": "AKIAEXAMPLE", "password": "p4ss"}', 'calms/prod/smtp-credentials');

    // Assess
    expect(login).toEqual({ username: 'AKIAEXAMPLE', password: 'p4ss' });
  });

  test.each(['AKIAEXAMPLE:p4ss', '{"username": "AKIAEXAMPLE"}', '{"username": "", "password": "p4ss"}', '{"user": "a", "pass": "b"}', 'null'])(
    'a secret holding %j is a ConfigurationError naming the secret and the format, not the text',
    (text) => {
      // Act
      const parse = () => parseSmtpCredentials(text, 'calms/prod/smtp-credentials');

      // Assess
      expect(parse).toThrow(ConfigurationError);
      expect(parse).toThrow('the secret calms/prod/smtp-credentials must hold the SMTP login as JSON {"username": "…", "password": "…"}');
    },
  );
});
