#!/usr/bin/env bash
# quickstart.sh - the main job: start a local Sanji network (county server,
# two township relays, village stations, with the demo county 鲁山县) and play
# a scripted working day through it with the `sanji` command-line client.
#
#   ./deploy/quickstart.sh            install, build, start, play the day
#   SANJI_NET_DIR=/path ./deploy/quickstart.sh    keep the network elsewhere
#
# The network keeps running afterwards; the script ends by saying how to use
# it, how to open the desktop program and how to stop it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SANJI_NET_DIR=${SANJI_NET_DIR:-/tmp/sanji-net}
export SANJI_BUILD_DIR=${SANJI_BUILD_DIR:-$root/build/release}
net=$SANJI_NET_DIR
cli=$SANJI_BUILD_DIR/client/sanji
export SANJI_PASSWORD=sanji123   # the demo accounts' password (deploy/demo/README.md)

./deploy/install-deps.sh
./deploy/localnet.sh start

# --- the people of the day ------------------------------------------------------

ZGY=410423101201      # 张官营镇 张官营村
LW=410423102201       # 梁洼镇 梁洼村
DD=410423102202       # 梁洼镇 段店村
T_ZGY=410423101000    # 张官营镇
T_LW=410423102000     # 梁洼镇

conf() { echo "$net/$1/client.conf"; }
station() { conf "station-$1"; }
desk() { conf "desk-$1"; }
dept() { conf "desk-dept-$1"; }

step() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# Runs the CLI at a node; shows who does what, then the CLI's own output,
# indented; stops the day on failure.
at() { # config args...
  local c=$1; shift
  local who
  who=$(basename "$(dirname "$c")")
  case $who in
    station-*) who="村站 ${who#station-}" ;;
    desk-county) who="县级坐席" ;;
    desk-dept-*) who="县直部门 ${who#desk-dept-}" ;;
    desk-*) who="乡镇坐席 ${who#desk-}" ;;
  esac
  printf '  %s$ sanji %s\n' "$who" "$*"
  local out rc=0
  out=$("$cli" --config "$c" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/    /'
  if [ "$rc" -ne 0 ]; then
    echo "quickstart: 'sanji $*' failed with exit code $rc (see docs/CLI.md); the network is still running in $net" >&2
    exit 1
  fi
  LAST_OUT=$out
}

# Brings a node's local copy up to date (exit 5 only means: not everything
# arrived within the wait; the next command catches up).
sync_at() {
  "$cli" --config "$1" sync --wait 5 >/dev/null 2>&1 || [ $? -eq 5 ]
}

# Acts at a node and waits until the county has recorded the action.
act() { # config action case [options...]
  at "$@" --wait-applied
}

# The same at a node the case has just come down to: its local copy is
# brought up to date first.
act_next() { # config action case [options...]
  sync_at "$1"
  act "$@"
}

# Registers at a station and prints the case number the county assigned.
register() { # station-config item name id phone text
  act "$1" register --item "$2" --name "$3" --id "$4" --phone "$5" --text "$6"
  CASE=$(printf '%s\n' "$LAST_OUT" | sed -n 's/.*事项编号 \([0-9-]*\).*/\1/p' | head -n 1)
  [ -n "$CASE" ] || { echo "quickstart: no case number in the output" >&2; exit 1; }
}

# Carries a case one level up, where the desk above accepts it.
hand_up() { # from-config to-config case [accept options...]
  local from=$1 to=$2 case=$3
  shift 3
  act "$from" escalate "$case"
  act_next "$to" accept "$case" "$@"
}

step "== 一、各岗位人员登录 (duty cadres, township staff and the county operator log in)"
for v in $ZGY $LW $DD; do at "$(station $v)" login "p-$v-01"; done
for t in $T_ZGY $T_LW; do at "$(desk $t)" login "p-$t-01"; done
at "$(desk county)" login "p-410423000000-01"
for d in mzj rsj; do at "$(dept $d)" login "p-410423000000-$d-01"; done

step "== 二、张官营村：医保电子凭证激活，村里即办 (done at once at the village)"
register "$(station $ZGY)" YB-002 王秀兰 410423195803121021 13703751201 "帮忙激活医保电子凭证"
A=$CASE
act "$(station $ZGY)" resolve-now "$A" --result "已在站内协助激活医保电子凭证"
act "$(station $ZGY)" feedback "$A" --satisfaction 满意

step "== 三、张官营村：县内户口迁移，代办到乡镇，乡镇承办 (carried to the township, finished there)"
register "$(station $ZGY)" HJ-004 李建国 410423196507212046 13937510001 "儿子婚后户口迁到张官营村"
B=$CASE
hand_up "$(station $ZGY)" "$(desk $T_ZGY)" "$B"
act "$(desk $T_ZGY)" resolve "$B" --result "户口迁移手续已办结，新户口簿已由村干部带回"
act_next "$(station $ZGY)" feedback "$B" --satisfaction 基本满意

step "== 四、张官营村：城乡低保申请，代办到县，派单到县直部门，一次告知补齐材料 (to the county, dispatched to a department; missing materials listed at once)"
register "$(station $ZGY)" MZ-003 赵桂芳 410423197201053016 15837520002 "丈夫因病致贫，申请城乡低保"
C=$CASE
mkdir -p "$net/papers"
at "$(station $ZGY)" print receipt "$C" --output "$net/papers/$C-受理回执.pdf"
hand_up "$(station $ZGY)" "$(desk $T_ZGY)" "$C"
act "$(desk $T_ZGY)" escalate "$C" --note "需县民政局审批"
act_next "$(desk county)" accept "$C"
at "$(desk county)" departments
act "$(desk county)" dispatch "$C" --department rsj --note "请审核"
at "$(dept rsj)" queue
act "$(dept rsj)" refuse "$C" --note "城乡低保由县民政局审批，请改派"
act "$(desk county)" dispatch "$C" --department mzj
act "$(dept mzj)" take "$C"
act "$(dept mzj)" request-materials "$C" --material 家庭收入证明 --material 户口簿复印件 \
  --material 医院诊断证明
sync_at "$(station $ZGY)"
at "$(station $ZGY)" print notice "$C" --output "$net/papers/$C-一次性告知单.pdf"
act_next "$(station $ZGY)" supplement "$C" --note "材料已收齐，扫描件随件上报"
act "$(dept mzj)" report "$C" --result "经审核符合条件"
act "$(desk county)" return-report "$C" --note "请写明纳入低保的起始时间"
act "$(dept mzj)" report "$C" --result "经审核符合条件，自下月起纳入城乡低保"
act "$(desk county)" resolve "$C" --result "经县民政局审核符合条件，自下月起纳入城乡低保"
act_next "$(station $ZGY)" feedback "$C" --satisfaction 满意

step "== 五、梁洼村：养老保险待遇申领，县里退办 (returned by the county as not doable, with the reason)"
register "$(station $LW)" SB-004 孙德福 410423196906190550 13603750003 "申请领取城乡居民养老保险待遇"
D=$CASE
hand_up "$(station $LW)" "$(desk $T_LW)" "$D"
hand_up "$(desk $T_LW)" "$(desk county)" "$D"
act "$(desk county)" return "$D" --note "申请人1969年出生，未满60周岁，暂不符合领取条件；满60周岁后可再申请"
act_next "$(station $LW)" feedback "$D" --satisfaction 基本满意

step "== 六、段店村：生育登记，乡镇承办 (finished by the township)"
register "$(station $DD)" JS-004 周丽娜 410423199108110732 18237500004 "办理二孩生育登记"
E=$CASE
hand_up "$(station $DD)" "$(desk $T_LW)" "$E"
act "$(desk $T_LW)" resolve "$E" --result "生育登记已完成，服务手册已发放"
act_next "$(station $DD)" feedback "$E" --satisfaction 满意

step "== 七、结果回到村里 (results back at the villages)"
for v in $ZGY $LW $DD; do
  sync_at "$(station $v)"
  echo "  -- $v"
  "$cli" --config "$(station $v)" list | sed 's/^/    /'
done

step "== 八、一件事项的全过程 (one case's full history: $C)"
"$cli" --config "$(station $ZGY)" show "$C" | sed 's/^/    /'

cat <<EOF

== 今天的演示完成 (the scripted day is done)

本地网络仍在运行，数据在 $net
  命令行:   $cli --config $(station $ZGY) list
            $cli --config $(desk county) list --status escalated_county
            $cli --config $(dept mzj) queue
  桌面程序: $SANJI_BUILD_DIR/client/desk/sanji-desk --config $(station $ZGY)
  群众单据: $net/papers/ (受理回执、一次性告知单, PDF)
  状态:     ./deploy/localnet.sh status
  停止:     ./deploy/localnet.sh stop      (数据保留 / data kept)
  清除:     ./deploy/localnet.sh clean     (删除全部数据 / delete everything)
演示账号密码 (demo password): sanji123
EOF
