// Parse Mermaid charts with mermaid's own parser, one per stdin line (a JSON string): one JSON answer per
// line, {"type": <diagram type>} or {"error": <mermaid's message>}. One process serves every chart of a
// test session: loading mermaid takes seconds, a parse milliseconds. mermaid sanitises labels with
// DOMPurify, which needs a DOM: jsdom gives it one.
import readline from "node:readline";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

for await (const line of readline.createInterface({ input: process.stdin })) {
  let answer;
  try {
    answer = { type: (await mermaid.parse(JSON.parse(line))).diagramType };
  } catch (error) {
    answer = { error: String(error.message ?? error) };
  }
  console.log(JSON.stringify(answer));
}
