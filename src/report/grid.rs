//! A table as data: headers and rows of cells, written either for the terminal (aligned columns) or as an
//! HTML table on a report page. The commands' findings (a sweep's points, advice) are made once as grids,
//! so the terminal and the page say the same thing.

/// A table cell: text, or a number (right-aligned), marked when it is bad news.
#[derive(Debug)]
pub enum Cell {
    Text(String),
    Num(String),
    Bad(String),
}

#[derive(Debug, Default)]
pub struct Grid {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    pub fn new(headers: &[&str]) -> Grid {
        Grid { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Aligned columns: text to the left, numbers to the right, two spaces between. The caller escapes
    /// the whole for the terminal.
    pub fn terminal(&self) -> String {
        let text = |c: &Cell| match c {
            Cell::Text(t) | Cell::Num(t) | Cell::Bad(t) => t.clone(),
        };
        let columns = self.headers.len().max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let mut widths = vec![0; columns];
        for (i, h) in self.headers.iter().enumerate() {
            widths[i] = h.chars().count();
        }
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(text(c).chars().count());
            }
        }
        let numeric: Vec<bool> = (0..columns)
            .map(|i| self.rows.iter().any(|r| matches!(r.get(i), Some(Cell::Num(_) | Cell::Bad(_)))))
            .collect();
        let line = |cells: Vec<(String, bool)>| {
            let parts: Vec<String> = cells
                .into_iter()
                .enumerate()
                .map(
                    |(i, (t, right))| {
                        if right { format!("{t:>w$}", w = widths[i]) } else { format!("{t:<w$}", w = widths[i]) }
                    },
                )
                .collect();
            let mut l = parts.join("  ");
            l.truncate(l.trim_end().len());
            l.push('\n');
            l
        };
        let mut out = line(self.headers.iter().enumerate().map(|(i, h)| (h.clone(), numeric[i])).collect());
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|c| (text(c), !matches!(c, Cell::Text(_)))).collect()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_text_left_and_numbers_right() {
        let mut g = Grid::new(&["name", "rate"]);
        g.push(vec![Cell::Text("a".into()), Cell::Num("1.5%".into())]);
        g.push(vec![Cell::Text("longer".into()), Cell::Bad("80.0%".into())]);
        assert_eq!(g.terminal(), "name     rate\na        1.5%\nlonger  80.0%\n");
    }
}
