// Keyboard movement in a grid of rows of different lengths (days of
// slots): one tab stop for the whole grid, arrow keys move within it
// (the WAI-ARIA "roving tabindex" pattern).

export interface Cell {
  row: number;
  col: number;
}

/**
 * move returns the cell a key leads to from at, or null for keys the grid
 * does not handle. Left/Right run through the rows as one sequence,
 * Up/Down change row keeping the column (clamped), Home/End go to the
 * row's ends, Ctrl+Home/End to the grid's.
 */
export function move(rows: number[], at: Cell, key: string, ctrl = false): Cell | null {
  if (!rows.length) return null;
  const last = (r: number) => Math.max(0, rows[r] - 1);
  const nonEmpty = (r: number, step: number): number => {
    for (let i = r; i >= 0 && i < rows.length; i += step) if (rows[i] > 0) return i;
    return -1;
  };
  switch (key) {
    case "ArrowRight": {
      if (at.col < last(at.row)) return { row: at.row, col: at.col + 1 };
      const r = nonEmpty(at.row + 1, 1);
      return r < 0 ? at : { row: r, col: 0 };
    }
    case "ArrowLeft": {
      if (at.col > 0) return { row: at.row, col: at.col - 1 };
      const r = nonEmpty(at.row - 1, -1);
      return r < 0 ? at : { row: r, col: last(r) };
    }
    case "ArrowDown": {
      const r = nonEmpty(at.row + 1, 1);
      return r < 0 ? at : { row: r, col: Math.min(at.col, last(r)) };
    }
    case "ArrowUp": {
      const r = nonEmpty(at.row - 1, -1);
      return r < 0 ? at : { row: r, col: Math.min(at.col, last(r)) };
    }
    case "Home": {
      if (!ctrl) return { row: at.row, col: 0 };
      const r = nonEmpty(0, 1);
      return r < 0 ? at : { row: r, col: 0 };
    }
    case "End": {
      if (!ctrl) return { row: at.row, col: last(at.row) };
      const r = nonEmpty(rows.length - 1, -1);
      return r < 0 ? at : { row: r, col: last(r) };
    }
  }
  return null;
}
