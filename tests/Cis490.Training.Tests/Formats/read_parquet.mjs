// Independent check of our Parquet files: reads one with hyparquet (a from-scratch JavaScript reader, no Parquet.Net code)
// and prints {rows, rowGroups, columns: [{name, type, convertedType}], first, last} as JSON. first/last map column name
// to value; int64 values become strings (JSON has no 64-bit integers), NaN becomes the string "NaN".
// Usage: node read_parquet.mjs FILE.parquet   (hyparquet must resolve from this script's folder's node_modules)
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'

const path = process.argv[2]
const file = await asyncBufferFromFile(path)
const metadata = await parquetMetadataAsync(file)
const rows = Number(metadata.num_rows)
const columns = metadata.schema.slice(1).map(e => ({
  name: e.name,
  type: e.type,
  convertedType: e.converted_type ?? null,
  repetition: e.repetition_type ?? null,
  children: e.num_children ?? 0,
}))
const rowAt = async i => i < 0 ? null : (await parquetReadObjects({ file, rowStart: i, rowEnd: i + 1 }))[0]
const out = { rows, rowGroups: metadata.row_groups.length, columns, first: await rowAt(rows > 0 ? 0 : -1), last: await rowAt(rows - 1) }
const replacer = (_, v) => typeof v === 'bigint' ? v.toString() : (typeof v === 'number' && Number.isNaN(v)) ? 'NaN' : v
process.stdout.write(JSON.stringify(out, replacer) + '\n')
