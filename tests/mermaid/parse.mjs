// Parse Mermaid text with mermaid's own parser. mermaid sanitises labels with DOMPurify, which needs a DOM:
// jsdom gives it one.
//   node parse.mjs            the text on stdin: print the diagram type, exit 1 on a syntax error;
//   node parse.mjs --lines    one chart per stdin line (a JSON string): one JSON answer per line,
//                             {"type": ...} or {"error": ...} (loading mermaid takes seconds, a parse ms).
import readline from "node:readline";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

if (process.argv.includes("--lines")) {
  for await (const line of readline.createInterface({ input: process.stdin })) {
    let answer;
    try {
      answer = { type: (await mermaid.parse(JSON.parse(line))).diagramType };
    } catch (error) {
      answer = { error: String(error.message ?? error) };
    }
    console.log(JSON.stringify(answer));
  }
} else {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  try {
    const parsed = await mermaid.parse(text);
    console.log(parsed.diagramType);
  } catch (error) {
    console.error(String(error.message ?? error));
    process.exit(1);
  }
}
