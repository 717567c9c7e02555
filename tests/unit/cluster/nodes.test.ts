import { NodeAddressError, formatNode, parseNode, parseNodeList } from '../../../lib/cluster/nodes';

describe('node addresses', () => {
  it.each([
    ['arcp14.hq.eso.org', { host: 'arcp14.hq.eso.org', port: 22 }],
    ['127.0.0.1:2222', { host: '127.0.0.1', port: 2222 }],
    ['[::1]:2222', { host: '::1', port: 2222 }],
  ])('parses %s', (text, address) => {
    // Act
    const parsed = parseNode(text);

    // Assess
    expect(parsed).toEqual(address);
  });

  it.each(['', 'host:', 'host:0', 'host:70000', '-host', 'ho st', '[::1', 'a:b:c', 'host;id'])('refuses %j', (text) => {
    // Act
    const act = () => parseNode(text);

    // Assess
    expect(act).toThrow(NodeAddressError);
  });

  it('formats IPv6 in brackets so host and port stay apart', () => {
    // Act
    const formatted = formatNode({ host: '::1', port: 2222 });

    // Assess
    expect(formatted).toBe('[::1]:2222');
  });

  it('canonicalises a list: default port made explicit, blanks and duplicates dropped', () => {
    // Act
    const nodes = parseNodeList(' arcp1 , 127.0.0.1:2222,,arcp1:22 ');

    // Assess
    expect(nodes).toEqual(['arcp1:22', '127.0.0.1:2222']);
  });

  it('refuses an empty list', () => {
    // Act
    const act = () => parseNodeList(' , ');

    // Assess
    expect(act).toThrow('no node is listed');
  });
});
