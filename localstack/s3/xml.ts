/**
 * Just enough XML for the S3 request bodies the edge reads itself (lifecycle configurations, tag sets,
 * CompleteMultipartUpload): elements, text, entities and CDATA. Attributes and namespaces are read past and
 * dropped; element names keep any prefix. Not a validating parser: it rejects what is not well formed, which is
 * what S3 answers MalformedXML for.
 */

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's own text (not its children's), entities decoded, untrimmed. */
  text: string;
}

export class MalformedXmlError extends Error {
  override name = 'MalformedXmlError';
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    const decoded = ENTITIES[entity];
    if (decoded === undefined) throw new MalformedXmlError(`unknown entity ${whole}`);
    return decoded;
  });
}

/** Parses a whole document into its root element. */
export function parseXml(source: string): XmlElement {
  const document: XmlElement = { name: '#document', children: [], text: '' };
  const open: XmlElement[] = [document];
  let at = 0;
  const fail = (why: string): never => {
    throw new MalformedXmlError(`${why} at character ${at}`);
  };
  while (at < source.length) {
    const lt = source.indexOf('<', at);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > at) {
      const text = source.slice(at, textEnd);
      if (open.length === 1) {
        if (text.trim()) fail('text outside the root element');
      } else {
        open[open.length - 1]!.text += decodeEntities(text);
      }
    }
    if (lt === -1) break;
    at = lt;
    if (source.startsWith('<?', at)) {
      const end = source.indexOf('?>', at);
      if (end === -1) fail('unterminated processing instruction');
      at = end + 2;
    } else if (source.startsWith('<!--', at)) {
      const end = source.indexOf('-->', at);
      if (end === -1) fail('unterminated comment');
      at = end + 3;
    } else if (source.startsWith('<![CDATA[', at)) {
      const end = source.indexOf(']]>', at);
      if (end === -1 || open.length === 1) fail('misplaced CDATA');
      open[open.length - 1]!.text += source.slice(at + 9, end);
      at = end + 3;
    } else if (source.startsWith('<!', at)) {
      fail('document type declarations are not accepted');
    } else if (source.startsWith('</', at)) {
      const end = source.indexOf('>', at);
      if (end === -1) fail('unterminated end tag');
      const name = source.slice(at + 2, end).trim();
      const current = open.pop();
      if (!current || open.length === 0 || current.name !== name) fail(`unexpected </${name}>`);
      at = end + 1;
    } else {
      const match = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(at));
      if (!match) fail('malformed start tag');
      const element: XmlElement = { name: match![1]!, children: [], text: '' };
      if (open.length === 1 && document.children.length > 0) fail('a second root element');
      open[open.length - 1]!.children.push(element);
      if (!match![3]) open.push(element);
      at += match![0].length;
    }
  }
  if (open.length !== 1) throw new MalformedXmlError(`<${open[open.length - 1]!.name}> is not closed`);
  const root = document.children[0];
  if (!root) throw new MalformedXmlError('no root element');
  return root;
}

export const childrenNamed = (element: XmlElement, name: string): XmlElement[] => element.children.filter((child) => child.name === name);

export const childNamed = (element: XmlElement, name: string): XmlElement | undefined => element.children.find((child) => child.name === name);

/** The text of the child `name` exactly as it is (for keys, prefixes, tags), or undefined when there is none. */
export function childRawText(element: XmlElement, name: string): string | undefined {
  return childNamed(element, name)?.text;
}

/** The trimmed text of the child `name`, or undefined when there is none. */
export function childText(element: XmlElement, name: string): string | undefined {
  const child = childNamed(element, name);
  return child === undefined ? undefined : child.text.trim();
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[ch]};`);
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
