// Parse the Mermaid text on stdin with mermaid's own parser: print the diagram type, exit 1 on a syntax error.
// mermaid sanitises labels with DOMPurify, which needs a DOM: jsdom gives it one.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  const parsed = await mermaid.parse(text);
  console.log(parsed.diagramType);
} catch (error) {
  console.error(String(error.message ?? error));
  process.exit(1);
}
