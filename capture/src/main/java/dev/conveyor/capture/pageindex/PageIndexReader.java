package dev.conveyor.capture.pageindex;

import dev.conveyor.capture.stats.FileCaptureException;
import dev.conveyor.capture.stats.ValueRenderer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.DummyRecordConverter;
import org.apache.parquet.format.PageHeader;
import org.apache.parquet.format.PageType;
import org.apache.parquet.format.Util;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.internal.column.columnindex.ColumnIndex;
import org.apache.parquet.internal.column.columnindex.OffsetIndex;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveComparator;
import org.apache.parquet.schema.PrimitiveType;

/**
 * Builds a file's page index. Fast path: Parquet's own OffsetIndex (page locations and first rows)
 * and ColumnIndex (per-page null counts and min/max) from the footer area, reading no data page.
 * Where a file lacks them, page headers are scanned for locations and the pages decoded for
 * min/max and null counts, so both kinds of file give the same index.
 */
public final class PageIndexReader {
  private PageIndexReader() {}

  /** The page index of the flat columns {@code selection} names (as statistics capture selects them). */
  public static PageIndex read(Path file, dev.conveyor.api.reconcile.ColumnSelection selection)
      throws FileCaptureException {
    return read(new LocalInputFile(file), file.toString(), selection);
  }

  /** As above for any Parquet {@code input}; {@code file} is the path the index names. */
  public static PageIndex read(org.apache.parquet.io.InputFile input, String file,
      dev.conveyor.api.reconcile.ColumnSelection selection) throws FileCaptureException {
    List<String> columns;
    try (ParquetFileReader reader = ParquetFileReader.open(input,
        ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
      columns = dev.conveyor.capture.stats.ParquetFileStats.selectedColumns(
          reader.getFooter().getFileMetaData().getSchema(), selection);
    } catch (IOException | RuntimeException | LinkageError e) {
      throw new FileCaptureException(file + ": cannot build the page index (" + e.getMessage() + ")", e);
    }
    return read(input, file, columns);
  }

  public static PageIndex read(Path file, List<String> columns) throws FileCaptureException {
    return read(new LocalInputFile(file), file.toString(), columns);
  }

  public static PageIndex read(org.apache.parquet.io.InputFile input, String file, List<String> columns)
      throws FileCaptureException {
    try (ParquetFileReader reader = ParquetFileReader.open(input,
        ParquetReadOptions.builder(new PlainParquetConfiguration()).build());
        SeekableInputStream raw = input.newStream()) {
      MessageType schema = reader.getFooter().getFileMetaData().getSchema();
      List<BlockMetaData> blocks = reader.getRowGroups();
      List<PageEntry> entries = new ArrayList<>();
      boolean nativeIndex = true;
      for (int g = 0; g < blocks.size(); g++) {
        BlockMetaData block = blocks.get(g);
        List<ColumnDecode> needDecode = new ArrayList<>();
        for (ColumnChunkMetaData chunk : block.getColumns()) {
          String name = chunk.getPath().toDotString();
          if (!columns.contains(name)) {
            continue;
          }
          ColumnDescriptor column = schema.getColumnDescription(chunk.getPath().toArray());
          OffsetIndex offsets = reader.readOffsetIndex(chunk);
          ColumnIndex stats = reader.readColumnIndex(chunk);
          nativeIndex &= offsets != null && stats != null;
          List<Location> locations = offsets != null ? locations(offsets, block.getRowCount()) : scan(raw, chunk);
          if (chunk.hasDictionaryPage()) {
            long dictOffset = chunk.getDictionaryPageOffset();
            int size = (int) ((locations.isEmpty() ? chunk.getStartingPos() + chunk.getTotalSize()
                : locations.get(0).offset()) - dictOffset);
            entries.add(new PageEntry(name, g, PageEntry.DICTIONARY_PAGE, true, dictOffset, size, 0, 0, null, null,
                null));
          }
          if (stats != null) {
            for (int p = 0; p < locations.size(); p++) {
              Location l = locations.get(p);
              boolean nullPage = stats.getNullPages().get(p);
              Long nulls = stats.getNullCounts() == null ? null : stats.getNullCounts().get(p);
              PrimitiveType type = column.getPrimitiveType();
              entries.add(new PageEntry(name, g, p, false, l.offset(), l.size(), l.firstRow(), l.rows(), nulls,
                  nullPage ? null : render(type, fromIndex(type, stats.getMinValues().get(p))),
                  nullPage ? null : render(type, fromIndex(type, stats.getMaxValues().get(p)))));
            }
          } else {
            needDecode.add(new ColumnDecode(column, name, locations, entries.size()));
          }
        }
        if (!needDecode.isEmpty()) {
          decodePages(reader, schema, g, needDecode, entries);
        }
      }
      return new PageIndex(file, columns, blocks.size(), entries, nativeIndex);
    } catch (IOException | RuntimeException | LinkageError e) {
      throw new FileCaptureException(file + ": cannot build the page index (" + e.getMessage() + ")", e);
    }
  }

  private record Location(long offset, int size, long firstRow, long rows) {}

  private record ColumnDecode(ColumnDescriptor column, String name, List<Location> locations, int insertAt) {}

  private static List<Location> locations(OffsetIndex index, long rowGroupRows) {
    List<Location> out = new ArrayList<>();
    for (int p = 0; p < index.getPageCount(); p++) {
      long first = index.getFirstRowIndex(p);
      out.add(new Location(index.getOffset(p), index.getCompressedPageSize(p), first,
          index.getLastRowIndex(p, rowGroupRows) - first + 1));
    }
    return out;
  }

  /** Walks the chunk's page headers; sizes include the header, as the OffsetIndex counts them. */
  private static List<Location> scan(SeekableInputStream raw, ColumnChunkMetaData chunk) throws IOException {
    List<Location> out = new ArrayList<>();
    long pos = chunk.getStartingPos();
    long end = pos + chunk.getTotalSize();
    long row = 0;
    while (pos < end) {
      raw.seek(pos);
      CountingStream counting = new CountingStream(raw);
      PageHeader header = Util.readPageHeader(counting);
      int size = (int) counting.count + header.getCompressed_page_size();
      if (header.getType() == PageType.DATA_PAGE || header.getType() == PageType.DATA_PAGE_V2) {
        long rows = header.getType() == PageType.DATA_PAGE ? header.getData_page_header().getNum_values()
            : header.getData_page_header_v2().getNum_rows();
        out.add(new Location(pos, size, row, rows));
        row += rows;
      }
      pos += size;
    }
    return out;
  }

  /** Per-page min, max and null count by decoding the row group's values, split at the page boundaries. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void decodePages(ParquetFileReader reader, MessageType schema, int rowGroup,
      List<ColumnDecode> columns, List<PageEntry> entries) throws IOException {
    MessageType projection = new MessageType(schema.getName(),
        columns.stream().map(c -> schema.getType(c.column().getPath())).toList());
    PageReadStore pages = reader.readRowGroup(rowGroup);
    ColumnReadStoreImpl store = new ColumnReadStoreImpl(pages, new DummyRecordConverter(projection).getRootConverter(),
        projection, reader.getFooter().getFileMetaData().getCreatedBy());
    int inserted = 0;
    for (ColumnDecode c : columns) {
      ColumnReader r = store.getColumnReader(c.column());
      PrimitiveType type = c.column().getPrimitiveType();
      PrimitiveComparator comparator = type.comparator();
      int maxDef = c.column().getMaxDefinitionLevel();
      List<PageEntry> decoded = new ArrayList<>();
      for (int p = 0; p < c.locations().size(); p++) {
        Location l = c.locations().get(p);
        Object min = null;
        Object max = null;
        long nulls = 0;
        for (long i = 0; i < l.rows(); i++) {
          if (r.getCurrentDefinitionLevel() == maxDef) {
            Object v = value(r, type);
            if (!(v instanceof Float f && f.isNaN()) && !(v instanceof Double d && d.isNaN())) {
              min = min == null || comparator.compare(v, min) < 0 ? v : min;
              max = max == null || comparator.compare(v, max) > 0 ? v : max;
            }
          } else {
            nulls++;
          }
          r.consume();
        }
        decoded.add(new PageEntry(c.name(), rowGroup, p, false, l.offset(), l.size(), l.firstRow(), l.rows(), nulls,
            min == null ? null : render(type, min), max == null ? null : render(type, max)));
      }
      entries.addAll(c.insertAt() + inserted, decoded);
      inserted += decoded.size();
    }
  }

  private static Object value(ColumnReader r, PrimitiveType type) {
    return switch (type.getPrimitiveTypeName()) {
      case INT32 -> r.getInteger();
      case INT64 -> r.getLong();
      case FLOAT -> r.getFloat();
      case DOUBLE -> r.getDouble();
      case BOOLEAN -> r.getBoolean();
      default -> r.getBinary().copy();
    };
  }

  private static Object fromIndex(PrimitiveType type, ByteBuffer bytes) {
    ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    return switch (type.getPrimitiveTypeName()) {
      case INT32 -> b.getInt(b.position());
      case INT64 -> b.getLong(b.position());
      case FLOAT -> b.getFloat(b.position());
      case DOUBLE -> b.getDouble(b.position());
      case BOOLEAN -> b.get(b.position()) != 0;
      default -> Binary.fromConstantByteBuffer(b).copy();
    };
  }

  private static String render(PrimitiveType type, Object value) {
    var v = ValueRenderer.render(type, value);
    return v == null ? null : v.getRendered();
  }

  /** Counts the bytes a page-header read consumed. */
  private static final class CountingStream extends InputStream {
    private final InputStream in;
    private long count;

    CountingStream(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = in.read(buf, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
