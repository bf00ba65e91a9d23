/* box.c: a set-top box's boot flow and purchases in C over the numbind agent library.
 *
 * Usage: box run|status|reset <platform_url> <platform_key_file> <ca_file> <state_dir> [device_model]
 *        box buy <platform_url> <platform_key_file> <ca_file> <state_dir> <merchant_id> <item_id> <description>
 *            <amount_fen> [currency]
 *
 * `run` binds the box: it prints each event as one JSON object per line, in the shapes of
 * `numbind-agent --json-events`, and draws each code's QR matrix between the lines `QR BEGIN` and `QR END`
 * (two characters per module, `##` dark, spaces light, a quiet zone of 4 modules), as a box would draw it with
 * its own graphics. `status` prints `bound` or `unbound` (asking the platform); `reset` unbinds the box.
 * `buy` buys an item on the bound number and prints its events as `numbind-agent buy --json-events` does. Its
 * merchant channel (a real box's link from the billed app to its merchant backend) is this program's stdin and
 * stdout: it prints `MERCHANT {"signed_intent":...,"intent_nonce":"..."}` and waits for the line `taken`.
 * Exit status: 0 on success (for `buy`: paid), 1 on bad usage, 2 when the library answers an error (its message
 * on stderr); `buy` exits 3 when the purchase is denied, 4 cancelled, 5 expired, as `numbind-agent buy` does.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror -I include examples/box.c libnumbind_agent.a -lpthread -ldl -lm
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numbind_agent.h"

#define QR_QUIET_ZONE 4

/* What the callbacks share: the codes shown, and the exit status the purchase's outcome asks for. */
typedef struct {
    unsigned codes_shown;
    int purchase_exit;
} BoxState;

static NumbindAgentStr str_of(const char *text) {
    NumbindAgentStr value = {(const uint8_t *)text, text == NULL ? 0 : strlen(text)};
    return value;
}

/* Prints `"name":"value"` with JSON escapes; the value is UTF-8 with a length, not NUL-terminated. */
static void print_json_field(const char *name, NumbindAgentStr value, bool first) {
    printf("%s\"%s\":\"", first ? "" : ",", name);
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = value.ptr[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

/* The QR matrix drawn by the box itself, from the library's modules. */
static void draw_qr(const NumbindAgentEvent *event) {
    size_t side = event->qr_width + 2 * QR_QUIET_ZONE;
    puts("QR BEGIN");
    for (size_t y = 0; y < side; y++) {
        for (size_t x = 0; x < side; x++) {
            bool inside = x >= QR_QUIET_ZONE && y >= QR_QUIET_ZONE && x < QR_QUIET_ZONE + event->qr_width &&
                          y < QR_QUIET_ZONE + event->qr_width;
            bool dark = inside &&
                        event->qr_modules[(y - QR_QUIET_ZONE) * event->qr_width + (x - QR_QUIET_ZONE)] == 1;
            fputs(dark ? "##" : "  ", stdout);
        }
        putchar('\n');
    }
    puts("QR END");
}

static void print_binding(const char *name, const NumbindAgentEvent *event) {
    printf("{\"event\":\"%s\"", name);
    print_json_field("binding_id", event->binding_id, false);
    print_json_field("msisdn_masked", event->msisdn_masked, false);
    puts("}");
}

static bool str_is(NumbindAgentStr value, const char *text) {
    return value.len == strlen(text) && (value.len == 0 || memcmp(value.ptr, text, value.len) == 0);
}

static void print_purchase_started(const NumbindAgentEvent *event) {
    printf("{\"event\":\"purchase_started\"");
    print_json_field("merchant_id", event->merchant_id, false);
    print_json_field("item_id", event->item_id, false);
    printf(",\"amount_minor_units\":%lld", (long long)event->amount_minor_units);
    print_json_field("currency", event->currency, false);
    puts("}");
}

static void print_purchase_progress(const NumbindAgentEvent *event) {
    printf("{\"event\":\"purchase_progress\"");
    print_json_field("stage", event->stage, false);
    if (str_is(event->stage, "waiting_for_confirmation")) {
        if (event->expires_at_unix_seconds != 0) {
            printf(",\"expires_at_unix_seconds\":%lld", (long long)event->expires_at_unix_seconds);
        } else {
            printf(",\"expires_at_unix_seconds\":null");
        }
    }
    puts("}");
}

static void print_purchase_outcome(const NumbindAgentEvent *event, BoxState *state) {
    printf("{\"event\":\"purchase_outcome\"");
    print_json_field("outcome", event->outcome, false);
    if (str_is(event->outcome, "succeeded")) {
        print_json_field("payment_id", event->payment_id, false);
        state->purchase_exit = 0;
    } else if (str_is(event->outcome, "denied")) {
        print_json_field("reason", event->reason, false);
        print_json_field("words", event->words, false);
        state->purchase_exit = 3;
    } else if (str_is(event->outcome, "cancelled")) {
        print_json_field("reason", event->reason, false);
        state->purchase_exit = 4;
    } else {
        state->purchase_exit = 5;
    }
    puts("}");
}

/* The merchant channel: hands the signed intent over stdout and waits on stdin for the merchant to take it. */
static bool hand_to_merchant(const NumbindAgentSignedPurchase *purchase, void *user_data) {
    (void)user_data;
    printf("MERCHANT {\"signed_intent\":%.*s", (int)purchase->signed_intent.len,
           (const char *)purchase->signed_intent.ptr);
    print_json_field("intent_nonce", purchase->intent_nonce, false);
    puts("}");
    fflush(stdout);
    char answer[64];
    return fgets(answer, sizeof answer, stdin) != NULL && strcmp(answer, "taken\n") == 0;
}

static void on_event(const NumbindAgentEvent *event, void *user_data) {
    BoxState *state = user_data;
    switch (event->kind) {
    case NUMBIND_AGENT_EVENT_KIND_ACTIVATION:
        state->codes_shown += 1;
        printf("{\"event\":\"activation\"");
        print_json_field("terminal_id", event->terminal_id, false);
        print_json_field("activation_id", event->activation_id, false);
        print_json_field("code", event->code, false);
        print_json_field("sms_text", event->sms_text, false);
        print_json_field("short_code", event->short_code, false);
        print_json_field("qr_payload", event->qr_payload, false);
        printf(",\"expires_at_unix_seconds\":%lld}\n", (long long)event->expires_at_unix_seconds);
        if (event->qr_modules != NULL) {
            draw_qr(event);
        }
        break;
    case NUMBIND_AGENT_EVENT_KIND_BOUND:
        print_binding("bound", event);
        break;
    case NUMBIND_AGENT_EVENT_KIND_ALREADY_BOUND:
        print_binding("already_bound", event);
        break;
    case NUMBIND_AGENT_EVENT_KIND_DENIED:
        printf("{\"event\":\"denied\"");
        print_json_field("reason", event->reason, false);
        puts("}");
        break;
    case NUMBIND_AGENT_EVENT_KIND_EXPIRED:
        puts("{\"event\":\"expired\"}");
        break;
    case NUMBIND_AGENT_EVENT_KIND_UNBOUND:
        puts("{\"event\":\"unbound\"}");
        break;
    case NUMBIND_AGENT_EVENT_KIND_PURCHASE_STARTED:
        print_purchase_started(event);
        break;
    case NUMBIND_AGENT_EVENT_KIND_PURCHASE_PROGRESS:
        print_purchase_progress(event);
        break;
    case NUMBIND_AGENT_EVENT_KIND_PURCHASE_OUTCOME:
        print_purchase_outcome(event, state);
        break;
    case NUMBIND_AGENT_EVENT_KIND_RETRYING:
        printf("{\"event\":\"retrying\",\"after_ms\":%llu", (unsigned long long)event->after_ms);
        print_json_field("cause", event->cause, false);
        puts("}");
        break;
    default:
        /* Registered, waiting, watching, unreachable: the CLI's JSON form does not print them either. */
        break;
    }
    fflush(stdout);
}

static int fail(NumbindAgent *agent, NumbindAgentStatus status, const char *what) {
    NumbindAgentStr message = numbind_agent_last_error(agent);
    fprintf(stderr, "box: %s failed (status %d): %.*s\n", what, (int)status, (int)message.len,
            (const char *)message.ptr);
    numbind_agent_free(agent);
    return 2;
}

/* `buy`: the request from the command line, the purchase, and the exit status its outcome asks for. */
static int buy(NumbindAgent *agent, int argc, char **argv) {
    char *end = NULL;
    long long amount = strtoll(argv[9], &end, 10);
    if (*argv[9] == '\0' || *end != '\0') {
        fprintf(stderr, "box: the amount %s is not a whole number of fen\n", argv[9]);
        numbind_agent_free(agent);
        return 1;
    }
    NumbindAgentPurchaseRequest request;
    memset(&request, 0, sizeof request);
    request.merchant_id = str_of(argv[6]);
    request.item_id = str_of(argv[7]);
    request.item_description = str_of(argv[8]);
    request.amount_minor_units = amount;
    request.currency = str_of(argc == 11 ? argv[10] : NULL);
    BoxState state = {0, 2};
    NumbindAgentStatus status = numbind_agent_purchase(agent, &request, hand_to_merchant, on_event, &state);
    if (status != NUMBIND_AGENT_STATUS_OK) {
        return fail(agent, status, "buy");
    }
    numbind_agent_free(agent);
    return state.purchase_exit;
}

static bool usage_is_right(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "buy") == 0) {
        return argc == 10 || argc == 11;
    }
    return argc == 6 || argc == 7;
}

int main(int argc, char **argv) {
    if (!usage_is_right(argc, argv)) {
        fprintf(stderr, "usage: box run|status|reset <platform_url> <platform_key_file> <ca_file> <state_dir> "
                        "[device_model]\n"
                        "       box buy <platform_url> <platform_key_file> <ca_file> <state_dir> <merchant_id> "
                        "<item_id> <description> <amount_fen> [currency]\n");
        return 1;
    }
    if (numbind_agent_abi_version() != NUMBIND_AGENT_ABI_VERSION ||
        numbind_agent_abi_version_minor() < NUMBIND_AGENT_ABI_VERSION_MINOR) {
        fprintf(stderr, "box: library ABI %u.%u, header ABI %u.%u\n", numbind_agent_abi_version(),
                numbind_agent_abi_version_minor(), NUMBIND_AGENT_ABI_VERSION, NUMBIND_AGENT_ABI_VERSION_MINOR);
        return 2;
    }
    NumbindAgentConfig config;
    memset(&config, 0, sizeof config);
    config.platform_url = str_of(argv[2]);
    config.platform_key_file = str_of(argv[3]);
    config.ca_file = str_of(argv[4]);
    config.state_dir = str_of(argv[5]);
    config.device_model = str_of(argc == 7 ? argv[6] : NULL);
    char error[512];
    NumbindAgent *agent = NULL;
    NumbindAgentStatus status = numbind_agent_new(&config, &agent, (uint8_t *)error, sizeof error);
    if (status != NUMBIND_AGENT_STATUS_OK) {
        fprintf(stderr, "box: cannot start the agent (status %d): %s\n", (int)status, error);
        return 2;
    }
    NumbindAgentStr terminal_id = numbind_agent_terminal_id(agent);
    fprintf(stderr, "box: terminal %.*s, library %.*s\n", (int)terminal_id.len, (const char *)terminal_id.ptr,
            (int)numbind_agent_version().len, (const char *)numbind_agent_version().ptr);

    if (strcmp(argv[1], "buy") == 0) {
        return buy(agent, argc, argv);
    }
    if (strcmp(argv[1], "run") == 0) {
        BoxState state = {0, 0};
        status = numbind_agent_run_until_bound(agent, on_event, &state);
        if (status != NUMBIND_AGENT_STATUS_OK) {
            return fail(agent, status, "run");
        }
        bool bound = false;
        status = numbind_agent_is_bound(agent, &bound);
        if (status != NUMBIND_AGENT_STATUS_OK || !bound) {
            return fail(agent, status, "reading the flag after binding");
        }
    } else if (strcmp(argv[1], "status") == 0) {
        bool bound = false;
        status = numbind_agent_check_status(agent, &bound);
        if (status != NUMBIND_AGENT_STATUS_OK) {
            return fail(agent, status, "status");
        }
        puts(bound ? "bound" : "unbound");
    } else if (strcmp(argv[1], "reset") == 0) {
        status = numbind_agent_factory_reset(agent);
        if (status != NUMBIND_AGENT_STATUS_OK) {
            return fail(agent, status, "reset");
        }
        puts("reset");
    } else {
        fprintf(stderr, "box: unknown command %s\n", argv[1]);
        numbind_agent_free(agent);
        return 1;
    }
    numbind_agent_free(agent);
    return 0;
}
