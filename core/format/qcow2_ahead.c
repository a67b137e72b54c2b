/* qcow2 decoder, read-ahead half. A qcow2 whose data clusters are not in
 * guest order in the file (written by a running guest, or by qemu-img
 * convert -W) turns a guest-order reader (a .vmdk view, a cp of the .raw)
 * into one small request per cluster, all over the file: about 22 MiB/s
 * from a local Glance. Such a layout is recognised at open; once a reader
 * has gone HINT_AFTER bytes through the guest in order, the whole file is
 * hinted to the source below (cfs_source_prefetch): the block cache then
 * fetches it as one sequential download and serves the clusters from it.
 * The same walk tells whether clusters are compressed: then the decoded
 * disk is worth caching (views.c). */
#include "log.h"
#include "qcow2.h"

#define SEEK_GAP    (16u << 20) /* a host jump farther than this (or back) is a seek */
#define SEEKS_MIN   16          /* and a layout with fewer is in order */
#define SEEKS_SHARE 64          /* or with fewer than one per this many data clusters */
#define HINT_AFTER  (4u << 20)  /* guest bytes read in order before the hint */
#define BACK_SLACK  (8u << 20)  /* a read this far behind the last still counts */

void qcow2_layout_check(struct qcow2 *q)
{
    uint64_t n_clusters = (q->base.size + q->cluster_size - 1) >> q->cluster_bits;
    uint64_t per_l2 = 1ull << q->l2_bits, prev = 0, seeks = 0, data = 0, compressed = 0;

    for (uint64_t c = 0; c < n_clusters; c++) {
        const uint64_t *t = q->l2[c >> q->l2_bits];
        if (!t)
            continue;
        uint64_t e = t[(c & (per_l2 - 1)) * q->entry_words], host, len = q->cluster_size;
        if (e & QCOW2_COMPRESSED) {
            qcow2_compressed_span(q, e, &host, &len);
            compressed++;
        } else if (!(host = e & QCOW2_OFFSET_MASK))
            continue;
        if (data && (host < prev || host - prev > SEEK_GAP))
            seeks++;
        prev = host + len;
        data++;
    }
    q->scattered = seeks >= SEEKS_MIN && seeks * SEEKS_SHARE >= data;
    q->base.costly = compressed > 0;
    if (q->scattered)
        cfs_log_debug("qcow2: %s: %llu of %llu data clusters out of file order", q->label,
                      (unsigned long long)seeks, (unsigned long long)data);
}

void qcow2_read_ahead(struct qcow2 *q, uint64_t off, uint64_t len)
{
    if (!q->scattered || atomic_load(&q->hinted))
        return;
    /* Concurrent readers (the kernel's readahead) arrive a little out of
     * order: only a step back of more than BACK_SLACK starts the count anew. */
    uint64_t last = atomic_load(&q->seq_end), run;
    if (off + BACK_SLACK < last) {
        atomic_store(&q->seq_bytes, 0);
        atomic_store(&q->seq_end, off + len);
        return;
    }
    while (off + len > last && !atomic_compare_exchange_weak(&q->seq_end, &last, off + len))
        ;
    run = atomic_fetch_add(&q->seq_bytes, len) + len;
    if (run >= HINT_AFTER && !atomic_exchange(&q->hinted, true)) {
        cfs_log_debug("qcow2: %s: a reader goes through the guest in order: the whole file "
                      "is read ahead",
                      q->label);
        cfs_source_prefetch(q->file, 0, q->file_size);
    }
}
