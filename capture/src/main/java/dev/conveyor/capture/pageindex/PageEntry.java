package dev.conveyor.capture.pageindex;

/**
 * One page of one column chunk: where it is (offset and size, header included, as Parquet's
 * OffsetIndex counts it), which rows it holds, and its null count and canonical min/max (null when
 * the page has no non-null value). A dictionary page has page number -1 and no rows.
 */
public record PageEntry(String column, int rowGroup, int page, boolean dictionary, long offset, int compressedSize,
    long firstRowIndex, long rowCount, Long nullCount, String min, String max) {

  public static final int DICTIONARY_PAGE = -1;
}
