// Column layout like the docker CLI's text/tabwriter (minwidth 10, padding 3, spaces).

const MIN_WIDTH = 10;
const PADDING = 3;

export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return; // the last cell is not padded
      widths[i] = Math.max(widths[i] ?? 0, Math.max(MIN_WIDTH, displayWidth(cell) + PADDING));
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - displayWidth(cell)))).join(''))
    .map((line) => `${line}\n`)
    .join('');
}

function displayWidth(text: string): number {
  return [...text].length;
}
