/// A numeric series from CSV text: one column by name (or the only/first column), a header line when its
/// first field is not a number, empty or `NA` cells as missing values. Parsing only; the caller reads
/// the file.
public enum CSVSeries {
    public static func parse(_ text: String, column: String? = nil) throws(ForecastError) -> [Double] {
        var lines = text.split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        guard let first = lines.first else { throw ForecastError.invalidInput("the CSV is empty") }
        let hasHeader = Double(unquote(first.first ?? "")) == nil
        var index = 0
        if let column {
            guard hasHeader, let found = first.firstIndex(where: { unquote($0) == column }) else {
                throw ForecastError.invalidInput("no column named \"\(column)\" in the CSV header")
            }
            index = found
        }
        if hasHeader { lines.removeFirst() }
        var values: [Double] = []
        for (number, fields) in lines.enumerated() {
            let cell = index < fields.count ? unquote(fields[index]) : ""
            if cell.isEmpty || cell == "NA" || cell == "NaN" {
                values.append(.nan)
            } else if let value = Double(cell), value.isFinite {
                values.append(value)
            } else {
                throw ForecastError.invalidInput("line \(number + (hasHeader ? 2 : 1)): \"\(cell)\" is not a number")
            }
        }
        guard values.contains(where: { !$0.isNaN }) else {
            throw ForecastError.invalidInput("the column has no numbers")
        }
        return values
    }

    static func unquote(_ field: Substring) -> String {
        var s = field
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " || s.last == "\r" { s = s.dropLast() }
        if s.count >= 2, s.first == "\"", s.last == "\"" { s = s.dropFirst().dropLast() }
        return String(s)
    }
}
