// Turn a DOM selection on the reading page into offsets in the text's canonical content.
// The server renders each paragraph as <p class="para" data-start="N"> whose text is exactly the
// paragraph; offsets count Unicode code points, as the server does (not UTF-16 units).

/** Length in Unicode code points, as the server counts offsets. */
export const codePoints = (text) => Array.from(text).length;

function offsetIn(para, node, offset) {
  const range = document.createRange();
  range.selectNodeContents(para);
  range.setEnd(node, offset);
  return Number(para.dataset.start) + codePoints(range.toString());
}

function paraOf(node) {
  const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  return element?.closest("p.para") ?? null;
}

/** {start, end} in content offsets for a Range, clamped to the paragraphs it touches, or null. */
export function rangeToOffsets(range) {
  const paras = [...document.querySelectorAll("p.para")].filter((p) => range.intersectsNode(p));
  if (!paras.length) return null;
  const first = paras[0];
  const last = paras[paras.length - 1];
  const startPara = paraOf(range.startContainer);
  const endPara = paraOf(range.endContainer);
  const start = startPara === first ? offsetIn(first, range.startContainer, range.startOffset) : Number(first.dataset.start);
  const end = endPara === last
    ? offsetIn(last, range.endContainer, range.endOffset)
    : Number(last.dataset.start) + codePoints(last.textContent);
  return end > start ? { start, end } : null;
}

/** The canonical content, rebuilt from the page (paragraphs joined by a blank line). */
export function pageContent() {
  return [...document.querySelectorAll("p.para")].map((p) => p.textContent).join("\n\n");
}

/** W3C selectors for [start, end) in content, with 32 code points of context either side. */
export function selectors(content, start, end) {
  const chars = Array.from(content);
  return [
    {
      type: "TextQuoteSelector",
      exact: chars.slice(start, end).join(""),
      prefix: chars.slice(Math.max(0, start - 32), start).join(""),
      suffix: chars.slice(end, end + 32).join(""),
    },
    { type: "TextPositionSelector", start, end },
  ];
}
