# Shared settings of the verl runs of Qwen3-4B (sourced by the launchers; arXiv 2509.03646 §4.1 where the paper
# gives them: α = 0.2, clip-higher ε_high = 0.28, no KL term, 8 samples per prompt, token-level loss).
# Every line of HICRA_ARGS is a Hydra override of verl 0.9.1's ppo_trainer.yaml; tests/verl/test_plugin.py composes
# them against that file. Change the method only through METHOD, so baselines differ from HICRA in nothing else:
#   METHOD=hicra (default) | grpo | entropy_reg | hicra_entropy
# Data: DAPO-Math-17k and AIME-2024 as verl parquet files (columns prompt, data_source, reward_model, extra_info), e.g.
#   huggingface-cli download --repo-type dataset BytedTsinghua-SIA/DAPO-Math-17k --local-dir "$DATA_DIR/dapo-math-17k"
#   huggingface-cli download --repo-type dataset BytedTsinghua-SIA/AIME-2024 --local-dir "$DATA_DIR/aime-2024"
: "${METHOD:=hicra}"
: "${MODEL:=Qwen/Qwen3-4B-Instruct-2507}"
: "${DATA_DIR:=$HOME/data}"
: "${TRAIN_FILES:=$DATA_DIR/dapo-math-17k/data/dapo-math-17k.parquet}"
: "${VAL_FILES:=$DATA_DIR/aime-2024/data/aime-2024.parquet}"
: "${NNODES:=1}"
: "${GPUS_PER_NODE:=8}"
: "${RUN_NAME:=qwen3_4b_${METHOD}}"
: "${OUT:=$PWD/runs/verl/$RUN_NAME}"
: "${ENTROPY_REG_COEFF:=0.001}"
ENTROPY_COEFF=0
if [ "$METHOD" = entropy_reg ]; then ENTROPY_COEFF=$ENTROPY_REG_COEFF; fi

HICRA_ARGS=(
    algorithm.adv_estimator=grpo
    algorithm.use_kl_in_reward=false
    trainer.use_v1=true
    trainer.v1.trainer_mode=hicra
    +algorithm.hicra.method="$METHOD"
    +algorithm.hicra.alpha=0.2
    +algorithm.hicra.lexicon=paper
    +algorithm.hicra.entropy_top_q=0.3
    +algorithm.hicra.run_dir="$OUT"
    data.train_files="$TRAIN_FILES"
    data.val_files="$VAL_FILES"
    data.prompt_key=prompt
    data.train_batch_size=64
    data.max_prompt_length=1024
    data.max_response_length=8192
    data.filter_overlong_prompts=true
    actor_rollout_ref.model.path="$MODEL"
    actor_rollout_ref.model.enable_gradient_checkpointing=true
    actor_rollout_ref.actor.optim.lr=1e-6
    actor_rollout_ref.actor.ppo_mini_batch_size=64
    actor_rollout_ref.actor.use_dynamic_bsz=true
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=24576
    actor_rollout_ref.actor.use_kl_loss=false
    actor_rollout_ref.actor.clip_ratio_low=0.2
    actor_rollout_ref.actor.clip_ratio_high=0.28
    actor_rollout_ref.actor.loss_agg_mode=token-mean
    actor_rollout_ref.actor.entropy_coeff="$ENTROPY_COEFF"
    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.n=8
    actor_rollout_ref.rollout.temperature=1.0
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6
    actor_rollout_ref.rollout.tensor_model_parallel_size=1
    trainer.nnodes="$NNODES"
    trainer.n_gpus_per_node="$GPUS_PER_NODE"
    trainer.logger='["console","tensorboard"]'
    trainer.project_name=hicra
    trainer.experiment_name="$RUN_NAME"
    trainer.default_local_dir="$OUT/checkpoints"
    trainer.rollout_data_dir="$OUT/rollout_dump"
    trainer.save_freq=25
    trainer.test_freq=25
    trainer.total_training_steps=500
)
