# shellcheck shell=bash
# KAFKA_SECURITY=sasl_ssl for kafka.sh (sourced, not run): a development CA and broker certificate made
# with the JDK's keytool, SCRAM users written into the storage at format time, and the broker
# properties for a SASL_SSL listener. Everything lives in <data dir>/security (mode 700), made once
# and reused by later starts:
#   secrets          random passwords: the key stores', the inter-broker user's, the client user's
#   ca.p12 ca.pem    the CA (PKCS12 for keytool; PEM for Python clients: ADPULSE_KAFKA_CA_FILE)
#   broker.p12       the brokers' key and certificate for localhost / 127.0.0.1, signed by the CA
#   truststore.p12   the CA, for the brokers' own connections to each other
# Users: "admin" (SCRAM-SHA-512, brokers among themselves) and "adpulse" (SCRAM-SHA-256 and -512,
# the clients). The controller listener stays PLAINTEXT on 127.0.0.1.

security_dir="$data/security"
keytool="${JAVA_HOME:+$JAVA_HOME/bin/}keytool"
store_pass="" admin_pass="" client_pass=""
client_user="adpulse"

# 24 random letters and digits (no quoting needed in JAAS or in --add-scram).
random_secret() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true; }

load_secrets() {
    local key value
    mkdir -p "$security_dir"
    chmod 700 "$security_dir"
    if [[ ! -s $security_dir/secrets ]]; then
        (
            umask 077
            printf 'store_pass=%s\nadmin_pass=%s\nclient_pass=%s\n' \
                "$(random_secret)" "$(random_secret)" "$(random_secret)" >"$security_dir/secrets.tmp"
        )
        mv "$security_dir/secrets.tmp" "$security_dir/secrets"
    fi
    while IFS='=' read -r key value; do
        case $key in
            store_pass) store_pass=$value ;;
            admin_pass) admin_pass=$value ;;
            client_pass) client_pass=$value ;;
        esac
    done <"$security_dir/secrets"
    [[ -n $store_pass && -n $admin_pass && -n $client_pass ]] || die "$security_dir/secrets is incomplete: delete $data"
}

kt() { "$keytool" -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC "$@" -storepass "$store_pass" -noprompt; }

# The CA and the broker certificate (SAN localhost and 127.0.0.1), once per data dir (about 7 s of
# keytool runs). Written into a temporary directory and moved into place when complete.
make_certs() {
    local tmp="$security_dir/tmp.$$" t0
    [[ -s $security_dir/ca.pem && -s $security_dir/broker.p12 && -s $security_dir/truststore.p12 ]] && return 0
    command -v "$keytool" >/dev/null || die "keytool not found (part of the JDK; set JAVA_HOME)"
    t0="$(now)"
    rm -rf "$tmp" && mkdir -p "$tmp"
    {
        kt -genkeypair -alias ca -dname "CN=adpulse development CA" -ext bc:c -keyalg RSA -keysize 2048 \
            -validity 3650 -keystore "$tmp/ca.p12" -storetype PKCS12
        kt -exportcert -rfc -alias ca -keystore "$tmp/ca.p12" -file "$tmp/ca.pem"
        kt -genkeypair -alias broker -dname "CN=localhost" -keyalg RSA -keysize 2048 -validity 3650 \
            -keystore "$tmp/broker.p12" -storetype PKCS12
        kt -certreq -alias broker -keystore "$tmp/broker.p12" -file "$tmp/broker.csr"
        kt -gencert -alias ca -keystore "$tmp/ca.p12" -infile "$tmp/broker.csr" -outfile "$tmp/broker.pem" -rfc \
            -validity 3650 -ext SAN=dns:localhost,ip:127.0.0.1 -ext KU=digitalSignature,keyEncipherment \
            -ext EKU=serverAuth,clientAuth
        kt -importcert -alias ca -file "$tmp/ca.pem" -keystore "$tmp/broker.p12"
        kt -importcert -alias broker -file "$tmp/broker.pem" -keystore "$tmp/broker.p12"
        kt -importcert -alias ca -file "$tmp/ca.pem" -keystore "$tmp/truststore.p12" -storetype PKCS12
    } >"$tmp/keytool.out" 2>&1 || {
        cat "$tmp/keytool.out" >&2
        die "keytool failed making the development certificates"
    }
    mv "$tmp/ca.p12" "$tmp/ca.pem" "$tmp/broker.p12" "$tmp/truststore.p12" "$security_dir/"
    rm -rf "$tmp"
    log "made a development CA and broker certificate (localhost, 127.0.0.1) in $security_dir in $(since "$t0")s"
}

# The SCRAM users, written into the metadata log when the storage is formatted.
scram_args() {
    printf '%s\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_pass]" \
        --add-scram "SCRAM-SHA-256=[name=$client_user,password=$client_pass]" \
        --add-scram "SCRAM-SHA-512=[name=$client_user,password=$client_pass]"
}

security_properties() {
    local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_pass\";"
    cat <<EOF

# --- KAFKA_SECURITY=sasl_ssl: clients and brokers authenticate with SCRAM over TLS ---
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$jaas
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas
ssl.keystore.type=PKCS12
ssl.keystore.location=$security_dir/broker.p12
ssl.keystore.password=$store_pass
ssl.key.password=$store_pass
ssl.truststore.type=PKCS12
ssl.truststore.location=$security_dir/truststore.p12
ssl.truststore.password=$store_pass
ssl.endpoint.identification.algorithm=https
ssl.client.auth=none
EOF
}

# What a client needs (ADPULSE_* settings), for deploy/stack.sh and the readiness check.
client_security_env() {
    printf '%s\n' "ADPULSE_KAFKA_SECURITY_PROTOCOL=SASL_SSL" "ADPULSE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512" \
        "ADPULSE_KAFKA_USERNAME=$client_user" "ADPULSE_KAFKA_PASSWORD=$client_pass" \
        "ADPULSE_KAFKA_CA_FILE=$security_dir/ca.pem"
}
